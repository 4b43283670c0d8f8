/**
 * How someone asked: each kind has its own prompt and its own place to answer. `automatic`: nobody
 * wrote anything; the repository asks for a review of each pull request (`review:` in its config).
 */
export type TriggerKind = "comment" | "review_comment" | "review" | "label" | "opened" | "automatic";

/** What gets the 👀: a comment, a review comment, or the issue/PR itself. */
export type ReactionTarget =
  | { type: "issue_comment"; id: number }
  | { type: "review_comment"; id: number }
  | { type: "issue"; id: number };

/** Where an inline review comment sits; the App answers in that review thread. */
export interface ReviewCommentContext {
  commentId: number;
  path: string;
  line?: number;
  startLine?: number;
  diffHunk: string;
}

/** A request someone made of the App on GitHub, with everything needed to act on it. */
export interface TriggerRequest {
  kind: TriggerKind;
  /** Identifies the triggering object; equal keys mean the same request. */
  triggerKey: string;
  repository: string;
  owner: string;
  repo: string;
  number: number;
  isPullRequest: boolean;
  installationId: number;
  requester: string;
  /**
   * Who wrote the text, when that is not the requester: a maintainer who edits
   * someone else's comment to add the mention. Both must be allowed, or editing
   * an outsider's comment would launder their words into a request.
   */
  author?: string;
  reactTo: ReactionTarget;
  /** Link to what asked (comment, review, issue). */
  commentUrl: string;
  /** A review of the pull request (`review` after the mention, or the review label), never a change to it. */
  review?: ReviewAsked;
  /** `new` after the mention: a conversation of its own, even where the thread's last one could go on. */
  fresh?: true;
  /** The request itself, without the mention; empty for a label. */
  request: string;
  title: string;
  body: string | null;
  /** When the request was made: later comments and edits are not part of it. */
  triggeredAt: string;
  labels?: string[];
  reviewComment?: ReviewCommentContext;
  /** What the repository's `.github/openhands.yml` says about the work itself, and the words that ask the App. */
  settings: RequestSettings;
}

export interface RequestSettings {
  /** The mention that asks the App for work, which the agent must never write. */
  mention: string;
  /** The label that asks the App for work, for the help reply. */
  label: string;
  /** The label that asks for a review, which the agent must never add either. */
  reviewLabel: string;
  /** The repository's instructions for reviews (`review.instructions`), instead of `instructions`. */
  reviewInstructions: string;
  /** The reviews the repository asks for on its own, for the help reply. */
  autoReview?: AutoReview;
  instructions: string;
  branchPrefix: string;
  draftPr: boolean;
  /** How many days after its conversation ended a request on the thread still continues it (`continue_days`). */
  continueDays: number;
  /** Why the config file was ignored, said in the tracking comment. */
  configProblem?: string;
}

export interface ReviewAsked {
  /** What to look at most, in the asker's words ("the error handling"); empty for the whole change. */
  focus: string;
  /** The setting that asked for it, when nobody did. */
  automatic?: "on_open" | "on_push";
  /**
   * A re-review: the head the App's last review looked at (else, after a push, the head before it).
   * Only the commits after it are reviewed.
   */
  since?: string;
}

/** `review`, as the first word after the mention on a pull request, asks for a review; the rest is its focus. */
export function reviewAsked(
  request: Pick<TriggerRequest, "isPullRequest" | "kind" | "request">,
): ReviewAsked | undefined {
  if (!request.isPullRequest || request.kind === "label") return undefined;
  const match = /^review\b[\s:,.-]*/i.exec(request.request);
  return match ? { focus: request.request.slice(match[0].length).trim() } : undefined;
}

/**
 * `new`, as the first word after the mention, asks for a conversation of its own; the rest is the request.
 * Alone it is a word of the request ("@openhands new"): there is nothing to start fresh with.
 */
export function freshAsked(request: Pick<TriggerRequest, "kind" | "request">): string | undefined {
  if (request.kind === "label" || request.kind === "automatic") return undefined;
  const match = /^new\b[\s:,.-]*/i.exec(request.request);
  const rest = match ? request.request.slice(match[0].length).trim() : "";
  return rest ? rest : undefined;
}

/** The reviews a repository asks for with no word from anyone (`review:` in `.github/openhands.yml`). */
export interface AutoReview {
  /** Review each pull request when it is opened, or marked ready for review. */
  onOpen: boolean;
  /** Review the new commits after each push to a pull request. */
  onPush: boolean;
  /** Draft pull requests too. */
  drafts: boolean;
}

/** The parts of the repository config that decide whether an event is a request. */
export interface TriggerSettings {
  mention: string;
  label: string;
  /** The label that asks for a review of a pull request. */
  reviewLabel: string;
  allowedBots: readonly string[];
  /** Branches the agent opens PRs from; a PR opened from one is the agent's own. */
  branchPrefix?: string;
  /** The GitHub account the agent writes as (the OpenHands key owner's), when known. */
  agentLogin?: string;
  /** The reviews the repository asks for on its own; none when absent. */
  autoReview?: AutoReview;
}

export type Decision = { run: true; request: TriggerRequest } | { run: false; reason: string };

/** A request as its trigger kind reads it, before decideEvent adds the repository's settings. */
export type AskedRequest = Omit<TriggerRequest, "settings">;
export type KindDecision = { run: true; request: AskedRequest } | { run: false; reason: string };

/** The issue or pull request the request was made on, and which the App answers on. */
export function threadOf(request: Pick<TriggerRequest, "owner" | "repo" | "number">): {
  owner: string;
  repo: string;
  number: number;
} {
  return { owner: request.owner, repo: request.repo, number: request.number };
}

/** One key per issue or pull request, for the per-thread limits. */
export function threadKey(request: Pick<TriggerRequest, "repository" | "number">): string {
  return `${request.repository.toLowerCase()}#${request.number}`;
}
