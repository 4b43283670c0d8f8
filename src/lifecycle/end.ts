import { log } from "../log";
import { runMetrics } from "../openhands/metrics";
import type { AppConversation } from "../openhands/types";
import { acknowledge } from "../report/acknowledge";
import type { Produced } from "../report/messages";
import { failedComment, stoppedComment, succeededComment, timedOutComment } from "../report/messages";
import { publishTrackingComment } from "../report/publish";
import type { Services } from "../services";
import type { Task } from "../tasks/task";
import { transition } from "../tasks/task";

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
  | { status: "failed"; reason: string; summary?: string; conversation?: AppConversation }
  | { status: "timed_out"; phase: "start" | "run" }
  | { status: "stopped"; by: string };

/**
 * The final move: the comment first, the record second. If the save is lost,
 * the next tick edits the same comment again, so a user never sees two results.
 */
export async function endTask(services: Services, task: Task, ending: Ending): Promise<Task> {
  const now = services.now();
  const link = services.openhands.conversationLink(task.id);
  const durationMs = now.getTime() - Date.parse(task.createdAt);
  // Last chance for an owed 👀, so the comment that asked does not look ignored.
  const reacted = task.reacted === false ? await acknowledge(services, task) : task.reacted;
  const ended = { ...task, reacted };
  const view = { task: ended, link, durationMs };
  const conversation = "conversation" in ending ? ending.conversation : undefined;
  // The sandbox's session key is as secret as ours: the agent could have echoed it.
  const secrets = [conversation?.session_api_key];
  const trackingCommentId = await publishTrackingComment(services, ended, finalComment(view, ending), secrets);
  const outcome = { summary: services.redact(outcomeSummary(ending), secrets), finishedAt: now.toISOString() };
  const next = transition(ended, ending.status, { trackingCommentId, outcome }, now);
  await services.store.save(next, task);
  log("info", "task.ended", { task: task.id, status: ending.status, durationMs });
  return next;
}

/** The thread, its comment or the repository is gone: there is nobody left to tell. */
export async function dropTask(services: Services, task: Task, status: number | undefined): Promise<Task> {
  const now = services.now();
  const next = transition(
    task,
    "failed",
    { outcome: { summary: "thread is gone", finishedAt: now.toISOString() } },
    now,
  );
  await services.store.save(next, task);
  log("info", "task.dropped", { task: task.id, status });
  return next;
}

function finalComment(view: { task: Task; link: string; durationMs: number }, ending: Ending): string {
  switch (ending.status) {
    case "succeeded":
      return succeededComment({ ...view, ...ending, metrics: runMetrics(ending.conversation) });
    case "failed":
      return failedComment({ ...view, ...ending, metrics: runMetrics(ending.conversation) });
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
      return ending.reason;
    case "timed_out":
      return "timed_out";
    case "stopped":
      return `stopped by @${ending.by}`;
  }
}
