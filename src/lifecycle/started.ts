import { log } from "../log";
import { workingComment } from "../report/messages";
import { publishTrackingComment } from "../report/publish";
import type { Services } from "../services";
import { type Continuation, conversationIdOf, type Task, transition } from "../tasks/task";

/**
 * The moves that put a task on OpenHands: its tracking comment posted, its
 * start recorded, a conversation found already running (a start whose answer
 * was lost) adopted, another start of ours followed.
 */

/** The "working" comment, posted before the start so its link is there first; saved with the start. */
export async function withTrackingComment(services: Services, task: Task): Promise<Task> {
  const link = services.openhands.conversationLink(conversationIdOf(task));
  const trackingCommentId = await publishTrackingComment(services, task, workingComment({ task, link }));
  return { ...task, trackingCommentId };
}

/** A started task whose tracking comment could not be posted then: posted now, and saved. */
export async function attachTrackingComment(services: Services, task: Task): Promise<Task> {
  const next = await withTrackingComment(services, task);
  await services.store.save(next, task);
  return next;
}

/** OpenHands accepted the start (or it was found on a retry, `recovered`): its start task is followed. */
export async function markStarted(
  services: Services,
  task: Task,
  startTaskId: string,
  recovered: boolean,
): Promise<Task> {
  const now = services.now();
  const next = transition(
    task,
    "starting",
    {
      startTaskId,
      attempts: task.attempts + 1,
      startedAt: task.startedAt ?? now.toISOString(),
      nextAttemptAt: undefined,
      lastError: undefined,
    },
    now,
  );
  await services.store.save(next, task);
  log("info", "task.started", { task: task.id, startTask: startTaskId, recovered });
  return next;
}

/**
 * The conversation with our id exists, whatever our start task says (a lost
 * answer, or a duplicate start stuck behind the first): follow it.
 */
export async function adoptConversation(services: Services, task: Task): Promise<Task> {
  const now = services.now();
  const base = task.status === "queued" ? transition(task, "starting", { startedAt: now.toISOString() }, now) : task;
  const next = transition(
    base,
    "running",
    { nextAttemptAt: undefined, lastError: undefined, readyAt: now.toISOString() },
    now,
  );
  await services.store.save(next, task);
  log("info", "task.adopted_conversation", { task: task.id });
  return next;
}

/** Our start task failed, but another start of ours is still on its way: follow that one. */
export async function switchToStartTask(services: Services, task: Task, startTaskId: string): Promise<Task> {
  const next = transition(task, "starting", { startTaskId }, services.now());
  await services.store.save(next, task);
  log("info", "task.followed_other_start", { task: task.id, startTask: startTaskId });
  return next;
}

/**
 * The request went into the thread's earlier conversation (`spentBefore`: what it had cost until then):
 * the task follows that run from now on, as one found running.
 */
export async function markContinued(
  services: Services,
  task: Task,
  spentBefore?: Continuation["spentBefore"],
): Promise<Task> {
  const now = services.now();
  const at = now.toISOString();
  const base = task.status === "queued" ? transition(task, "starting", { startedAt: at }, now) : task;
  const next = transition(
    base,
    "running",
    {
      continues: { ...task.continues!, sentAt: at, ...(spentBefore ? { spentBefore } : {}) },
      readyAt: at,
      attempts: task.attempts + 1,
      nextAttemptAt: undefined,
      lastError: undefined,
    },
    now,
  );
  await services.store.save(next, task);
  log("info", "task.continued", { task: task.id, conversation: task.continues?.conversationId });
  return next;
}

/** The earlier conversation's sandbox is coming back: the request goes in once it runs (a tick sends it). */
export async function markResuming(services: Services, task: Task): Promise<Task> {
  const now = services.now();
  const next = transition(
    task,
    "starting",
    {
      startedAt: task.startedAt ?? now.toISOString(),
      attempts: task.attempts + 1,
      nextAttemptAt: undefined,
      lastError: undefined,
    },
    now,
  );
  await services.store.save(next, task);
  log("info", "task.resuming_conversation", { task: task.id, conversation: task.continues?.conversationId });
  return next;
}
