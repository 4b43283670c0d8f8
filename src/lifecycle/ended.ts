import { ThreadGoneError } from "../github/gone";
import { httpStatus } from "../http-status";
import { log } from "../log";
import { runMetrics } from "../openhands/metrics";
import type { AppConversation } from "../openhands/types";
import { acknowledge } from "../report/acknowledge";
import type { Produced } from "../report/messages";
import {
  failedComment,
  failureWords,
  stoppedComment,
  succeededComment,
  timedOutComment,
  troubleWords,
} from "../report/messages";
import { publishTrackingComment } from "../report/publish";
import type { Services } from "../services";
import { rememberConversation } from "../tasks/last-conversation";
import type { FailureReason, UpstreamTrouble } from "../tasks/reasons";
import type { Task, TaskStatus } from "../tasks/task";
import { conversationIdOf, transition } from "../tasks/task";

/** How a task ended, with what its final comment needs. */
export type Ending =
  | {
      status: "succeeded";
      summary: string;
      produced: Produced;
      conversation?: AppConversation;
      /** OpenHands would not give the final answer: the comment says so instead of quoting it. */
      summaryUnread?: boolean;
    }
  | {
      status: "failed";
      reason: FailureReason;
      summary?: string;
      conversation?: AppConversation;
      /** The upstream that would not start it: what `/status` keeps as the task's last error. */
      upstream?: UpstreamTrouble;
    }
  | { status: "timed_out"; phase: "start" | "run" }
  | { status: "stopped"; by: string };

/**
 * The final move: the comment first, the record second. If the save is lost,
 * the next tick edits the same comment again, so a user never sees two results.
 */
export async function endTask(services: Services, task: Task, ending: Ending): Promise<Task> {
  const now = services.now();
  const link = services.openhands.conversationLink(conversationIdOf(task));
  const durationMs = now.getTime() - Date.parse(task.createdAt);
  // Last chance for an owed 👀, so the comment that asked does not look ignored.
  const reacted = task.reacted === false ? await acknowledge(services, task) : task.reacted;
  const upstream = ending.status === "failed" ? ending.upstream : undefined;
  const ended = { ...task, reacted, ...(upstream ? { lastError: troubleWords(upstream) } : {}) };
  const view = { task: ended, link, durationMs };
  const conversation = "conversation" in ending ? ending.conversation : undefined;
  // The sandbox's session key is as secret as ours: the agent could have echoed it.
  const secrets = [conversation?.session_api_key];
  let trackingCommentId: number;
  try {
    trackingCommentId = await publishTrackingComment(services, ended, finalComment(view, ending), secrets);
  } catch (error) {
    // Nobody can be told: the run's ending is recorded as it is, marked, and nothing more is tried.
    if (!(error instanceof ThreadGoneError)) throw error;
    return saveGone(services, ended, ending.status, services.redact(outcomeSummary(ending), secrets), error);
  }
  const outcome = { summary: services.redact(outcomeSummary(ending), secrets), finishedAt: now.toISOString() };
  const next = transition(ended, ending.status, { trackingCommentId, outcome }, now);
  await services.store.save(next, task);
  // A run that began is what the thread's next request goes on with. A stop is said by a command,
  // which reads the stored record: that says `starting` until the end (the poller keeps `running`).
  const ran = next.readyAt !== undefined || (ending.status === "stopped" && next.startedAt !== undefined);
  if (ran) await rememberConversation(services.kv, next, now);
  log("info", "task.ended", { task: task.id, status: ending.status, durationMs });
  return next;
}

/** Sandbox states in which the agent may still be working (and spending). */
const ALIVE = ["RUNNING", "STARTING"];

/**
 * The thread takes no comment any more (deleted, transferred, locked, archived, the App removed
 * from the repository): the task ends where it stands, as failed, with no comment, and nothing
 * more is asked of GitHub or OpenHands for it, which frees its slot and its share of each tick.
 * A conversation still running is paused first: nobody can see what it would produce, and it would
 * spend credits until it ends. It stays readable at its link. `gone` is GitHub's refusal (a
 * `ThreadGoneError`, or the status of a 404/410 met while the task was being started).
 */
export async function endForGoneThread(
  services: Services,
  task: Task,
  gone: ThreadGoneError | number | undefined,
  conversation?: AppConversation | null,
): Promise<Task> {
  let paused = false;
  if (conversation && ALIVE.includes(conversation.sandbox_status)) {
    try {
      await services.openhands.pauseSandbox(conversation.sandbox_id ?? conversation.id);
      paused = true;
    } catch (error) {
      // Best effort: the task ends either way, and OpenHands pauses an idle sandbox on its own.
      log("warn", "openhands.pause_failed", { task: task.id, status: httpStatus(error) });
    }
  }
  return saveGone(services, task, "failed", "thread is gone", gone, paused);
}

async function saveGone(
  services: Services,
  task: Task,
  status: TaskStatus,
  summary: string,
  gone: ThreadGoneError | number | undefined,
  paused = false,
): Promise<Task> {
  const now = services.now();
  const code = gone instanceof ThreadGoneError ? gone.status : (gone ?? 404);
  const reason =
    gone instanceof ThreadGoneError ? gone.message : `the thread is gone: GitHub answered ${code} while starting it`;
  const next = transition(
    task,
    status,
    {
      outcome: { summary, finishedAt: now.toISOString() },
      threadGone: { status: code, at: now.toISOString() },
      lastError: reason,
      nextAttemptAt: undefined,
    },
    now,
  );
  await services.store.save(next, task);
  log("warn", "task.thread_gone", {
    task: task.id,
    status: code,
    editStatus: gone instanceof ThreadGoneError ? gone.editStatus : undefined,
    ended: status,
    paused,
  });
  return next;
}

function finalComment(view: { task: Task; link: string; durationMs: number }, ending: Ending): string {
  const spentBefore = view.task.continues?.spentBefore;
  switch (ending.status) {
    case "succeeded":
      return succeededComment({ ...view, ...ending, metrics: runMetrics(ending.conversation, spentBefore) });
    case "failed":
      return failedComment({ ...view, ...ending, metrics: runMetrics(ending.conversation, spentBefore) });
    case "timed_out":
      return timedOutComment({ ...view, phase: ending.phase });
    case "stopped":
      return stoppedComment({ ...view, by: ending.by });
  }
}

/** What the thread's next request is told about this one. */
function outcomeSummary(ending: Ending): string {
  switch (ending.status) {
    case "succeeded":
      return ending.summary;
    case "failed":
      return failureWords(ending.reason);
    case "timed_out":
      return "timed_out";
    case "stopped":
      return `stopped by @${ending.by}`;
  }
}
