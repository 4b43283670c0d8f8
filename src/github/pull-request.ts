// Types only, importing nothing: report/messages.ts names them, and the README's example script type-checks
// the messages without the Worker's types, which github/pulls.ts (through client.ts) would bring in.

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

/**
 * Where a pull request comes from and when it last moved, as GitHub says it:
 * what tells a pull request a run produced from one the agent only named.
 */
export interface PullRequestOrigin {
  /** `owner/repo` it asks to merge into. */
  baseRepository: string;
  /** `owner/repo` its branch lives in: another one for a fork, null when that fork was deleted. */
  headRepository: string | null;
  headRef: string;
  headSha: string;
  /** Who opened it. */
  author: string;
  createdAt: string;
  /** Moves with any activity (a push, a comment, a label), not only pushes. */
  updatedAt: string;
}
