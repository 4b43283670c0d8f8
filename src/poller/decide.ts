import type { Config } from "../config";
import type { AppConversation, StartTask } from "../openhands/types";
import type { FailureReason } from "../tasks/reasons";
import { type ContinueFailure, runStartedMs, type Task } from "../tasks/task";
import { CRON_PERIOD_MS } from "./cron-period";

/**
 * Pure decisions of the poller: what a status read from OpenHands means for a
 * task. The I/O that follows lives in poll.ts.
 */
export type StartDecision =
  | { kind: "wait" }
  | { kind: "ready" }
  /** The start task ended in ERROR; `detail` is the service's. */
  | { kind: "start_failed"; detail?: string }
  | { kind: "fail"; reason: FailureReason }
  | { kind: "timeout" };

/** A start task the service does not know may just not be visible yet; give it this long. */
export const UNKNOWN_START_TASK_GRACE_MS = 5 * 60_000;

export function decideStart(
  task: Task,
  startTask: StartTask | null,
  conversation: AppConversation | null,
  now: number,
  config: Pick<Config, "startTimeoutMs">,
): StartDecision {
  // The conversation with our id exists: the agent is there, whatever the start task says.
  if (conversation !== null) return { kind: "ready" };
  const since = Date.parse(task.startedAt ?? task.createdAt);
  if (startTask === null) {
    return now - since > UNKNOWN_START_TASK_GRACE_MS
      ? { kind: "fail", reason: { kind: "start_unknown" } }
      : { kind: "wait" };
  }
  if (startTask.status === "READY") return { kind: "ready" };
  if (startTask.status === "ERROR") {
    return { kind: "start_failed", detail: startTask.detail ?? undefined };
  }
  // Every other status, known or not, is still on its way; the server may also have lost it.
  return now - since > config.startTimeoutMs ? { kind: "timeout" } : { kind: "wait" };
}

export type ResumeDecision = { kind: "send" } | { kind: "wait" } | { kind: "start_instead"; why: ContinueFailure };

/**
 * A request waiting for the thread's earlier conversation to come back: sent once its sandbox runs; a new
 * conversation instead when it is not back within the start deadline. A read that shows it gone waits too:
 * one failed runtime call makes the service answer MISSING for every sandbox it was asked about.
 */
export function decideResuming(
  task: Task,
  conversation: AppConversation | null,
  now: number,
  config: Pick<Config, "startTimeoutMs">,
): ResumeDecision {
  const sandbox = conversation?.sandbox_status;
  if (sandbox === "RUNNING") return { kind: "send" };
  const since = Date.parse(task.startedAt ?? task.createdAt);
  if (now - since <= config.startTimeoutMs) return { kind: "wait" };
  const gone = !conversation || sandbox === "MISSING" || sandbox === "ERROR";
  return { kind: "start_instead", why: gone ? "gone" : "not_back" };
}

export type RunDecision =
  | { kind: "wait" }
  | { kind: "finished" }
  /** By its execution status; also read back from the events of a gone sandbox. */
  | { kind: "agent_failed"; status: "error" | "stuck" }
  | { kind: "needs_input" }
  | { kind: "back_to_work" }
  /** The sandbox we resumed runs again: tell the agent to go on. */
  | { kind: "continue" }
  | { kind: "from_events"; mayResume: boolean }
  /** The run reads as gone: believed once it lasts (goneForGood). */
  | { kind: "fail"; reason: FailureReason & { kind: "conversation_gone" | "sandbox_failed" } }
  | { kind: "timeout" };

export function decideRun(
  task: Task,
  conversation: AppConversation | null,
  now: number,
  config: Pick<Config, "runTimeoutMs">,
): RunDecision {
  if (conversation === null) return { kind: "fail", reason: { kind: "conversation_gone" } };
  // A resumed run reads `error` (the agent-server reloads it so) until it gets a message.
  if (
    task.resumed &&
    !task.continued &&
    conversation.sandbox_status === "RUNNING" &&
    conversation.execution_status !== "finished"
  ) {
    return { kind: "continue" };
  }
  const decision = readConversation(conversation);
  if (decision.kind !== "wait" && decision.kind !== "working") return decision;
  const since = runStartedMs(task);
  if (now - since > config.runTimeoutMs) return { kind: "timeout" };
  // Someone answered the confirmation prompt: the agent works again.
  return decision.kind === "working" && task.status === "needs_input" ? { kind: "back_to_work" } : { kind: "wait" };
}

function readConversation(conversation: AppConversation): RunDecision | { kind: "working" } {
  switch (conversation.sandbox_status) {
    case "RUNNING":
      switch (conversation.execution_status) {
        case "finished":
          return { kind: "finished" };
        case "error":
          return { kind: "agent_failed", status: "error" };
        case "stuck":
          return { kind: "agent_failed", status: "stuck" };
        case "waiting_for_confirmation":
          return { kind: "needs_input" };
        case "deleting":
          return { kind: "from_events", mayResume: false };
        default:
          // idle, running, paused, null or a status newer than this code: not an end.
          return { kind: "working" };
      }
    case "PAUSED":
      return { kind: "from_events", mayResume: true };
    case "MISSING":
      return { kind: "from_events", mayResume: false };
    case "ERROR":
      return { kind: "fail", reason: { kind: "sandbox_failed" } };
    default:
      return { kind: "wait" };
  }
}

/**
 * A run that reads as gone ends only when it keeps reading so: at least three
 * reads in a row, spanning at least five minutes (about two ticks later at the
 * usual period). OpenHands answers MISSING for every sandbox of a call whose
 * runtime-API request failed (remote_sandbox_service.py batch_get_sandboxes), and
 * the agent goes on meanwhile.
 */
const GONE_READS = 3;
const GONE_FOR_MS = 5 * 60_000;

/** Whether this read, one more showing the run gone, makes it gone for good. */
export function goneForGood(task: Task, now: number): boolean {
  const since = task.goneSince ? Date.parse(task.goneSince) : now;
  return (task.goneReads ?? 0) + 1 >= GONE_READS && now - since >= GONE_FOR_MS;
}

/** How often a running agent's tracking comment may say what it does now. */
export const ACTIVITY_EVERY_MS = 6 * 60_000;

/**
 * Whether this tick should look at what a running agent does: once in each
 * `ACTIVITY_EVERY_MS` of its run, on the tick that falls in the window's first
 * cron period. Decided from the clock alone, so it needs nothing stored.
 */
export function activityDue(task: Task, now: number): boolean {
  if (task.status !== "running") return false;
  const ran = now - runStartedMs(task);
  return ran >= ACTIVITY_EVERY_MS && ran % ACTIVITY_EVERY_MS < CRON_PERIOD_MS;
}

/**
 * With `GIT_IDENTITY=app` the agent's token lasts an hour from its start: a
 * fresh one replaces it every `TOKEN_REFRESH_EVERY_MS`, on the tick in each
 * window's first cron period, so that two refreshes in a row may fail (a busy
 * tick, a paused sandbox) before the agent holds an expired one. Decided from
 * the clock alone, like the activity looks.
 */
const TOKEN_REFRESH_EVERY_MS = 20 * 60_000;

export function tokenRefreshDue(task: Task, now: number): boolean {
  const held = now - Date.parse(task.startedAt ?? task.createdAt);
  return held >= TOKEN_REFRESH_EVERY_MS && held % TOKEN_REFRESH_EVERY_MS < CRON_PERIOD_MS;
}
