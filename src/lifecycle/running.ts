import { ThreadGoneError, threadGoneStatus } from "../github/gone";
import { readCommentBody } from "../github/thread";
import { httpStatus } from "../http-status";
import { log } from "../log";
import { taskMarker } from "../own-marker";
import { acknowledge } from "../report/acknowledge";
import {
  activityLine,
  currentComment,
  needsInputComment,
  type Progress,
  showsWork,
  stopDidNotTakeNote,
  workingComment,
} from "../report/messages";
import { publishTrackingComment } from "../report/publish";
import type { Services } from "../services";
import type { GoneRead } from "../tasks/reasons";
import { conversationIdOf, type Task, transition } from "../tasks/task";
import { threadOf } from "../trigger/request";

/**
 * The moves of a task whose agent runs: seen running, waiting for a human and
 * back, its paused sandbox resumed and told to go on, a stop asked for, a 👀
 * owed since the start.
 */

/**
 * Running, but not written down: every tick reads the conversation of a started
 * task anyway, so the record stays "starting" and a task costs one KV write less
 * (the Free plan allows 1,000 a day). The run's clock starts at `readyAt`.
 */
export function seenRunning(task: Task, readyAt: string, now: Date): Task {
  return transition(task, "running", { readyAt }, now);
}

/**
 * What the agent does now, on its tracking comment, when that reads differently
 * from what the comment says: a run costs a GitHub edit per change of activity,
 * not per look, and no KV write (the comment itself is the record).
 */
export async function showActivity(services: Services, task: Task, progress: Progress): Promise<Task> {
  if (!progress.activity || task.trackingCommentId === undefined) return task;
  const { request } = task;
  const thread = threadOf(request);
  const github = services.github(request.installationId);
  let shown: string;
  try {
    shown = await readCommentBody(github, thread, task.trackingCommentId, request.reviewComment !== undefined);
  } catch (error) {
    if (![404, 410].includes(httpStatus(error) ?? 0)) throw error;
    // The issue deleted or out of the App's sight: the run is followed no further (the poller ends it).
    const gone = await threadGoneStatus(github, thread);
    if (gone !== undefined) throw new ThreadGoneError(gone, undefined, `${gone} to the issue and its comment`);
    // Only the comment was deleted: the result will post a new one (and record it); a progress line must not make a second.
    return task;
  }
  const line = services.redact(activityLine(progress.activity));
  if (!showsWork(shown) || shown.split("\n").includes(line)) return task;
  const link = services.openhands.conversationLink(conversationIdOf(task));
  // Notes added under the comment since it was posted (a follow-up sent, a stop that did not take) stay.
  const marker = taskMarker(task.id);
  const notes = shown.includes(marker) ? shown.slice(shown.indexOf(marker) + marker.length) : "";
  await publishTrackingComment(services, task, workingComment({ task, link, progress }) + notes);
  log("info", "task.activity_shown", { task: task.id });
  return task;
}

/** The agent waits for a confirmation, or works again after one: the tracking comment says which. */
export async function showProgress(services: Services, task: Task, status: "running" | "needs_input"): Promise<Task> {
  const next = transition(task, status, {}, services.now());
  const link = services.openhands.conversationLink(conversationIdOf(task));
  const render = status === "needs_input" ? needsInputComment : workingComment;
  next.trackingCommentId = await publishTrackingComment(services, next, render({ task: next, link }));
  await services.store.save(next, task);
  log("info", "task.status", { task: task.id, status });
  return next;
}

/** A fact about the run, kept on its record: the status stays, and nothing is said on the thread. */
async function noteOnRecord(
  services: Services,
  task: Task,
  fields: Partial<Task>,
  event: { level: "info" | "warn"; name: string; fields?: Record<string, unknown> },
): Promise<Task> {
  const next = transition(task, task.status, fields, services.now());
  await services.store.save(next, task);
  log(event.level, event.name, { task: task.id, ...event.fields });
  return next;
}

/** OpenHands paused the sandbox mid-run and this App resumed it: at most once per task. */
export function markResumed(services: Services, task: Task): Promise<Task> {
  return noteOnRecord(services, task, { resumed: true }, { level: "info", name: "task.sandbox_resumed" });
}

/**
 * The run read as gone, but not for long enough to be believed (poller/decide.ts goneForGood): counted,
 * and nothing is said on the thread.
 */
export function markGoneRead(services: Services, task: Task, what: GoneRead): Promise<Task> {
  const reads = (task.goneReads ?? 0) + 1;
  const goneSince = task.goneSince ?? services.now().toISOString();
  return noteOnRecord(
    services,
    task,
    { goneReads: reads, goneSince },
    { level: "warn", name: "task.gone_read", fields: { what, reads } },
  );
}

/** OpenHands would not give the ended run's final answer this time; the next ticks try again. */
export async function markAnswerUnread(services: Services, task: Task): Promise<Task> {
  if (task.answerUnreadSince) return task;
  const since = services.now().toISOString();
  return noteOnRecord(services, task, { answerUnreadSince: since }, { level: "warn", name: "task.answer_unread" });
}

/** The run reads as there again: a later gone starts counting afresh. */
export async function clearGoneReads(services: Services, task: Task): Promise<Task> {
  const { goneReads: _reads, goneSince: _since, ...rest } = task;
  const next = transition(rest, task.status, {}, services.now());
  await services.store.save(next, task);
  log("info", "task.back_after_gone_reads", { task: task.id, reads: task.goneReads });
  return next;
}

/** The resumed agent was told to go on (until then a resumed run reads `error`). */
export function markContinued(services: Services, task: Task): Promise<Task> {
  return noteOnRecord(services, task, { continued: true }, { level: "info", name: "task.continued_after_resume" });
}

/** The 👀 GitHub refused at the start, added now; unchanged while GitHub still refuses. */
export async function addOwedReaction(services: Services, task: Task): Promise<Task> {
  if (!(await acknowledge(services, task))) return task;
  const next = { ...task, reacted: true };
  await services.store.save(next, task);
  return next;
}

/** Asked to stop before the sandbox exists: the poller pauses it as soon as it does. */
export async function requestStop(services: Services, task: Task, by: string, supersededBy?: string): Promise<Task> {
  const next = { ...task, stopRequestedBy: by, ...(supersededBy ? { supersededBy } : {}) };
  await services.store.save(next, task);
  log("info", "task.stop_requested", { task: task.id });
  return next;
}

/** OpenHands did not pause the sandbox: the agent goes on, the thread is told, and it is still followed. */
export async function keepRunningAfterStop(services: Services, task: Task, by: string): Promise<Task> {
  const link = services.openhands.conversationLink(conversationIdOf(task));
  const body = currentComment({ task, link }) + stopDidNotTakeNote({ by, link });
  const next: Task = { ...task, stopRequestedBy: undefined };
  next.trackingCommentId = await publishTrackingComment(services, next, body);
  await services.store.save(next, task);
  log("warn", "task.stop_failed", { task: task.id });
  return next;
}
