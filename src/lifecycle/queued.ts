import { ThreadGoneError } from "../github/gone";
import { createComment } from "../github/thread";
import { httpStatus } from "../http-status";
import { claimInIsolate, releaseClaim } from "../isolate-claims";
import { log } from "../log";
import type { ThreadContext } from "../prompt/context";
import { acknowledge } from "../report/acknowledge";
import {
  currentComment,
  followUpNote,
  forkNotSupportedReply,
  notAllowedReply,
  queuedComment,
  waitWords,
} from "../report/messages";
import { replyNotAllowed } from "../report/not-allowed";
import { publishTrackingComment } from "../report/publish";
import type { Services } from "../services";
import { conversationIdFor } from "../tasks/ids";
import type { WaitReason } from "../tasks/reasons";
import { conversationIdOf, newTask, type Task, transition, WEBHOOK_OWNS_TASK_MS } from "../tasks/task";
import { type Decision, type TriggerRequest, threadOf } from "../trigger/request";

/**
 * The moves of a task before it reaches OpenHands: recorded, accepted, rejected,
 * kept in the queue, forwarded to the thread's running conversation. Each one
 * makes the transition, says it on GitHub and saves, in that order, so a lost
 * save replays a step whose GitHub side is idempotent.
 */

/** Longer than recording takes; the claim is released once the record is written. */
const RECORD_CLAIM_MS = 60_000;

/**
 * Records the request as a queued task (a command as "answered": it is done as
 * soon as it runs, and kept only against replays), or finds it already recorded:
 * GitHub delivers at least once. KV errors are thrown, so that the webhook
 * answers 5xx and GitHub redelivers: a request is never acknowledged unrecorded.
 */
export async function recordTask(
  services: Services,
  request: TriggerRequest,
  as: "queued" | "answered" = "queued",
): Promise<{ task: Task; duplicate: boolean }> {
  const { store } = services;
  const id = conversationIdFor(request.triggerKey);
  const now = services.now();
  const queued = newTask(id, request, now, new Date(now.getTime() + WEBHOOK_OWNS_TASK_MS));
  const task: Task = as === "answered" ? { ...queued, status: "answered", nextAttemptAt: undefined } : queued;
  // An overlapping delivery of the same request in this isolate: KV cannot tell yet, the claim can.
  const claim = `record:${id}`;
  if (!claimInIsolate(claim, RECORD_CLAIM_MS)) {
    log("info", "request.duplicate", { task: id, trigger: request.triggerKey, status: "being recorded" });
    return { task, duplicate: true };
  }
  let existing: Task | null;
  try {
    existing = await store.get(id);
    if (!existing) await store.save(task);
  } finally {
    // Once written, KV answers for it.
    releaseClaim(claim);
  }
  if (existing) {
    log("info", "request.duplicate", { task: id, trigger: request.triggerKey, status: existing.status });
    return { task: existing, duplicate: true };
  }
  log("info", "task.created", {
    task: id,
    trigger: request.triggerKey,
    repository: request.repository,
    number: request.number,
  });
  return { task, duplicate: false };
}

/**
 * The repository's config changed between the decision and the start, and the
 * event is decided again: still a request (with the new settings), or withdrawn
 * before anything shows on GitHub.
 */
export async function applyNewDecision(services: Services, task: Task, decision: Decision): Promise<Task | null> {
  if (!decision.run) {
    await services.store.delete(task.id);
    log("info", "request.withdrawn", { task: task.id, reason: decision.reason });
    return null;
  }
  const next = { ...task, request: decision.request };
  await services.store.save(next, task);
  return next;
}

/**
 * Who asked may ask, and the thread is read: 👀 on the comment that asked, last, since it never
 * throws and a failure before it must not leave a reaction the record does not know about. Not saved
 * on its own: the move that follows in the same step (started, queued, failed) saves it, one write fewer.
 */
export async function acceptTask(
  services: Services,
  task: Task,
  accepted: {
    context: ThreadContext;
    head?: { ref: string; sha: string };
    /** A re-review: the head the App's last review looked at. */
    since?: string;
  },
): Promise<Task> {
  const { head, context, since } = accepted;
  const reacted = await acknowledge(services, task);
  const { review } = task.request;
  return {
    ...task,
    ...(review && since ? { request: { ...task.request, review: { ...review, since } } } : {}),
    verified: true,
    reacted,
    context,
    ...(head ? { branch: head.ref, ...(head.sha ? { headSha: head.sha } : {}) } : {}),
  };
}

/**
 * Not started, for good. An outsider's request is answered once a day and
 * nothing of it is kept, so their mentions cannot fill KV; a replayed delivery
 * is forgotten without a word; a fork's request is told why and kept a day.
 */
export async function rejectTask(
  services: Services,
  task: Task,
  rejection: "not_allowed" | "fork" | "replayed",
): Promise<Task> {
  const { request } = task;
  const next = transition(
    task,
    "rejected",
    { rejection, ...(rejection === "fork" ? { verified: false } : {}) },
    services.now(),
  );
  // A review nobody asked for is not worth a word when it cannot be done: nobody waits for it.
  const quiet = request.kind === "automatic";
  if (rejection === "fork") {
    const thread = threadOf(request);
    if (!quiet)
      await createComment(services.github(request.installationId), thread, forkNotSupportedReply(request.requester));
    await services.store.save(next, task);
  } else {
    if (rejection === "not_allowed" && !quiet) await tellNotAllowed(services, task);
    await services.store.delete(task.id);
  }
  log("info", `request.${rejection}`, {
    task: task.id,
    sender: request.requester,
    author: request.author,
    trigger: request.triggerKey,
  });
  return next;
}

/**
 * The not-allowed reply. A request that waited in the queue, and lost its author's access
 * meanwhile, already has a tracking comment saying it waits: that comment becomes the reply,
 * so the thread is not left with a promise to start it.
 */
async function tellNotAllowed(services: Services, task: Task): Promise<void> {
  const { request } = task;
  if (task.trackingCommentId === undefined) {
    await replyNotAllowed(services, request);
    return;
  }
  await publishTrackingComment(services, task, notAllowedReply(request.requester, request.author));
}

/**
 * Keeps the task queued until `retryAt`; the tracking comment says why, once per
 * reason. `stored` is the task as KV has it: a wait that changes only the next
 * check time is not worth a write on every tick.
 */
export async function keepQueued(
  services: Services,
  task: Task,
  stored: Task,
  wait: {
    reason: WaitReason;
    retryAt: Date;
    /** An upstream failure (counted, always saved), not a wait for a slot or the thread. */
    isError: boolean;
    /** Say when it is tried again (a backoff, a limit); a slot wait has no such time. */
    showRetryAt: boolean;
  },
): Promise<Task> {
  const { reason, retryAt } = wait;
  // In words, as the comment says it: a reason said once is not said again.
  const said = waitWords(reason);
  const next = transition(task, "queued", { nextAttemptAt: retryAt.toISOString(), lastError: said }, services.now());
  if (said !== stored.lastError || next.trackingCommentId === undefined) {
    const link = services.openhands.conversationLink(conversationIdOf(next));
    try {
      const body = queuedComment({ task: next, link, reason, retryAt: wait.showRetryAt ? retryAt : undefined });
      next.trackingCommentId = await publishTrackingComment(services, next, body);
    } catch (error) {
      // Nobody will ever read it: the caller ends the task.
      if (error instanceof ThreadGoneError) throw error;
      // GitHub may be what is failing; the next attempt tries again.
      log("warn", "github.queued_notice_failed", { task: next.id, status: httpStatus(error) });
    }
  }
  if (!wait.isError && said === stored.lastError && next.trackingCommentId === stored.trackingCommentId) return stored;
  await services.store.save(next, stored);
  return next;
}

/**
 * A follow-up went to the thread's running conversation. It is said where the
 * thread already looks, the running task's own comment (no KV write to that task).
 */
export async function forwardTask(services: Services, task: Task, active: Task): Promise<Task> {
  const now = services.now();
  const link = services.openhands.conversationLink(conversationIdOf(active));
  const note = followUpNote({ task: active, link, from: task.request.requester, url: task.request.commentUrl });
  await publishTrackingComment(services, active, currentComment({ task: active, link }) + note).catch(
    (error: unknown) => log("warn", "github.follow_up_note_failed", { task: active.id, status: httpStatus(error) }),
  );
  const outcome = { summary: `sent to conversation ${conversationIdOf(active)}`, finishedAt: now.toISOString() };
  const next = transition(task, "forwarded", { forwardedTo: conversationIdOf(active), outcome }, now);
  await services.store.save(next, task);
  log("info", "task.forwarded", { task: task.id, to: active.id });
  return next;
}
