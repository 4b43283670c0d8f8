/** A request someone made of the App on GitHub, with everything needed to act on it. */
export interface TriggerRequest {
  /** Identifies the triggering object; equal keys mean the same request. */
  triggerKey: string;
  repository: string;
  owner: string;
  repo: string;
  number: number;
  isPullRequest: boolean;
  installationId: number;
  requester: string;
  commentId: number;
  commentUrl: string;
  /** The request itself: the comment without the mention. */
  request: string;
  title: string;
  body: string | null;
}

export type Decision = { run: true; request: TriggerRequest } | { run: false; reason: string };

/** One key per issue or pull request, for the per-thread limits. */
export function threadKey(request: Pick<TriggerRequest, "repository" | "number">): string {
  return `${request.repository.toLowerCase()}#${request.number}`;
}
