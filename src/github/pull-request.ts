/** A pull request as the result line names it, read back from GitHub rather than taken from the agent's word. */
export interface PullRequestSummary {
  repository: string;
  number: number;
  title: string;
  url: string;
  draft: boolean;
  merged: boolean;
  state: string;
  createdAt: string;
  headRef: string;
}
