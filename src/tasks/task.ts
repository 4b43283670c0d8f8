import type { ThreadContext } from "../prompt/context";
import type { TriggerRequest } from "../trigger/request";

/**
 * One request to OpenHands, from the comment that asked to the result we post.
 *
 *   queued ──► starting ──► running ──► succeeded
 *     │  ▲                    │  ▲
 *     └──┘ retry, wait        ▼  │
 *   for a slot or a limit  needs_input
 *
 *   failed / timed_out  from any pending state
 *   rejected            from queued: not allowed, or a fork
 *   stopped             from any pending state: the `stop` command
 *   forwarded           from queued: a follow-up sent to the thread's running conversation
 *   answered            a command (`help`, `status`, `stop`), recorded only so that a
 *                       redelivery or a replay is not answered again
 *
 * The webhook records a task before doing anything else; every step after that
 * can be replayed by the cron, so a crash or an upstream outage loses nothing.
 * `running` is held in memory only (the poller reads the conversation of every
 * started task each tick): the stored record says `starting` until the end,
 * unless the agent went to `needs_input` and back.
 */
export const PENDING_STATUSES = ["queued", "starting", "running", "needs_input"] as const;
export const FINAL_STATUSES = [
  "succeeded",
  "failed",
  "timed_out",
  "rejected",
  "stopped",
  "forwarded",
  "answered",
] as const;
export type PendingStatus = (typeof PENDING_STATUSES)[number];
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export type TaskStatus = PendingStatus | FinalStatus;
/**
 * How long a new task belongs to the webhook that recorded it, which goes on to start it after
 * answering GitHub: the cron leaves it alone until then, and a burst of requests counts the
 * queued ones this young as taking a slot.
 */
export const WEBHOOK_OWNS_TASK_MS = 2 * 60_000;
/** Statuses in which a sandbox exists or is being made: they count against the concurrency cap. */
export const ACTIVE_STATUSES: readonly TaskStatus[] = ["starting", "running", "needs_input"];
/** How a conversation that was started can end: what a later request on the thread builds on. */
const CONVERSATION_ENDINGS: readonly TaskStatus[] = ["succeeded", "failed", "timed_out", "stopped"];
/** Statuses a task keeps its `lastError` in (a start clears it): why it waits, or why it ended. */
const MAY_CARRY_ERROR: readonly TaskStatus[] = ["queued", "failed", "timed_out", "stopped", "forwarded"];

const ALLOWED: Record<TaskStatus, readonly TaskStatus[]> = {
  queued: ["queued", "starting", "failed", "timed_out", "rejected", "stopped", "forwarded"],
  starting: ["starting", "running", "failed", "timed_out", "stopped"],
  running: ["running", "needs_input", "succeeded", "failed", "timed_out", "stopped"],
  needs_input: ["needs_input", "running", "succeeded", "failed", "timed_out", "stopped"],
  succeeded: [],
  failed: [],
  timed_out: [],
  rejected: [],
  stopped: [],
  forwarded: [],
  answered: [],
};

export interface Task {
  /** Conversation id we chose (32 hex); also the task's key. */
  id: string;
  status: TaskStatus;
  request: TriggerRequest;
  /** The sender's permission and the limits were checked. */
  verified?: boolean;
  /** The 👀 reaction is on the triggering comment; false when GitHub refused it and it is still owed. */
  reacted?: boolean;
  /** Head branch of the pull request, for PR threads. */
  branch?: string;
  /** The pull request's head commit when the request was accepted: another one at the end means the agent pushed. */
  headSha?: string;
  /** The thread as it was when the request was made, read once so every retry sends the same prompt. */
  context?: ThreadContext;
  trackingCommentId?: number;
  startTaskId?: string;
  /** Attempts at getting the task started, GitHub steps included. */
  attempts: number;
  nextAttemptAt?: string;
  /** Why the last attempt did not go through, already redacted. */
  lastError?: string;
  createdAt: string;
  updatedAt: string;
  /** When OpenHands accepted the start; the start deadline counts from here. */
  startedAt?: string;
  /** When the run began (the start's acceptance, or the adoption of a conversation found running); the run deadline counts from here. */
  readyAt?: string;
  /** This App resumed the sandbox after OpenHands paused it mid-run (once per task). */
  resumed?: boolean;
  /** The resumed agent was told to go on (a resumed run reads `error` until it is). */
  continued?: boolean;
  /**
   * Reads in a row that showed the run gone (no conversation, its sandbox MISSING or ERROR) while its events
   * did not tell how it ended, and when the first of them was: one failed runtime call makes the service answer
   * MISSING for every sandbox it asked about, so only a gone that lasts ends the task (poller/decide.ts).
   */
  goneReads?: number;
  goneSince?: string;
  /** When OpenHands first would not give the ended run's final answer: after a while the result is posted without it. */
  answerUnreadSince?: string;
  outcome?: { summary: string; finishedAt: string };
  /** The thread's previous request, whose outcome the new conversation is told about. */
  previous?: { conversationId: string; summary: string };
  /** The conversation a follow-up was sent to, instead of starting one. */
  forwardedTo?: string;
  /**
   * The thread's earlier conversation this request went on with instead of starting one: the task
   * follows that conversation, whose id is not the task's (`conversationIdOf`).
   */
  continues?: Continuation;
  /** The thread's conversation could not go on (why): this request started a new one. */
  continueFailed?: ContinueFailure;
  /** Someone asked to stop it before its sandbox existed: the poller pauses it once ready. */
  stopRequestedBy?: string;
  /** An automatic review stopped by a push whose review replaces it: the new head. */
  supersededBy?: string;
  /**
   * The thread took no comment from this task, for good (deleted, transferred, locked, archived, the App
   * removed from the repository): GitHub's status and when. Set on the record it ended with; nothing more
   * is asked of GitHub or OpenHands for it.
   */
  threadGone?: { status: number; at: string };
  /** Why a rejected task was rejected. ("rate_limited" only on records older than queueing over a limit.) */
  rejection?: "not_allowed" | "fork" | "rate_limited" | "replayed";
}

export interface Continuation {
  conversationId: string;
  /** When the earlier run ended: what the thread said after it is news to the agent. */
  since: string;
  /** What the earlier run concluded, for a new conversation's prompt if this one cannot go on. */
  summary: string;
  /** When the request went into the conversation; until then its sandbox is coming back. */
  sentAt?: string;
  /** What the conversation had cost before, so the result counts this request's share only. */
  spentBefore?: { costUsd?: number; tokens?: number };
}

/** Why a conversation could not go on: deleted or its sandbox gone, or a sandbox that would not come back. */
export type ContinueFailure = "gone" | "not_back";

/** The conversation the task follows: its own, or the thread's earlier one it continues. */
export function conversationIdOf(task: Pick<Task, "id" | "continues">): string {
  return task.continues?.conversationId ?? task.id;
}

export class InvalidTransition extends Error {
  constructor(from: TaskStatus, to: TaskStatus) {
    super(`task cannot go from ${from} to ${to}`);
    this.name = "InvalidTransition";
  }
}

/** When the agent began (ms): the start OpenHands accepted, else the request. The run deadline counts from here. */
export function runStartedMs(task: Task): number {
  return Date.parse(task.readyAt ?? task.startedAt ?? task.createdAt);
}

export function isPending(status: TaskStatus): status is PendingStatus {
  return (PENDING_STATUSES as readonly string[]).includes(status);
}

export function isFinal(status: TaskStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export function isActive(status: TaskStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

export function isConversationEnding(status: TaskStatus): boolean {
  return CONVERSATION_ENDINGS.includes(status);
}

export function mayCarryError(status: TaskStatus): boolean {
  return MAY_CARRY_ERROR.includes(status);
}

export function transition(task: Task, to: TaskStatus, changes: Partial<Task> = {}, now = new Date()): Task {
  if (!ALLOWED[task.status].includes(to)) throw new InvalidTransition(task.status, to);
  return { ...task, ...changes, status: to, updatedAt: now.toISOString() };
}

export function newTask(id: string, request: TriggerRequest, now: Date, firstAttemptAt: Date): Task {
  return {
    id,
    status: "queued",
    request,
    attempts: 0,
    nextAttemptAt: firstAttemptAt.toISOString(),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}
