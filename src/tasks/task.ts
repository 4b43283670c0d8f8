/**
 * One request to OpenHands, from the comment that asked to the result we post.
 *
 *   queued ──► starting ──► running ──► succeeded
 *     │  ▲         │           │  ▲
 *     └──┘ retry   │           ▼  │
 *                  │       needs_input
 *                  ▼           ▼
 *             failed / timed_out (from any pending state)
 *
 * The webhook creates tasks; the poller moves them on. Both go through `transition`.
 */
export const PENDING_STATUSES = ["queued", "starting", "running", "needs_input"] as const;
export const FINAL_STATUSES = ["succeeded", "failed", "timed_out"] as const;
export type PendingStatus = (typeof PENDING_STATUSES)[number];
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export type TaskStatus = PendingStatus | FinalStatus;

const ALLOWED: Record<TaskStatus, readonly TaskStatus[]> = {
  queued: ["queued", "starting", "failed", "timed_out"],
  starting: ["starting", "running", "failed", "timed_out"],
  running: ["running", "needs_input", "succeeded", "failed", "timed_out"],
  needs_input: ["needs_input", "running", "succeeded", "failed", "timed_out"],
  succeeded: [],
  failed: [],
  timed_out: [],
};

export interface Task {
  /** Conversation id we chose (32 hex); also the task's key. */
  id: string;
  repository: string;
  number: number;
  isPullRequest: boolean;
  installationId: number;
  requester: string;
  /** The comment that asked, so the answer can point back to it. */
  triggerCommentId: number;
  triggerUrl: string;
  branch?: string;
  /** Kept so that a start the service refused for now can be retried by the cron. */
  prompt: string;
  status: TaskStatus;
  startTaskId?: string;
  trackingCommentId?: number;
  createdAt: string;
  updatedAt: string;
  /** When OpenHands accepted the start; the start deadline counts from here. */
  startedAt?: string;
  /** When the conversation became READY; the run deadline counts from here. */
  readyAt?: string;
  startAttempts: number;
  nextAttemptAt?: string;
  /** Why the last attempt did not go through, already redacted. */
  lastError?: string;
  resumed?: boolean;
  outcome?: { summary: string; finishedAt: string };
}

export class InvalidTransition extends Error {
  constructor(from: TaskStatus, to: TaskStatus) {
    super(`task cannot go from ${from} to ${to}`);
    this.name = "InvalidTransition";
  }
}

export function isPending(status: TaskStatus): status is PendingStatus {
  return (PENDING_STATUSES as readonly string[]).includes(status);
}

export function isFinal(status: TaskStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export function transition(task: Task, to: TaskStatus, changes: Partial<Task> = {}, now = new Date()): Task {
  if (!ALLOWED[task.status].includes(to)) throw new InvalidTransition(task.status, to);
  return { ...task, ...changes, status: to, updatedAt: now.toISOString() };
}
