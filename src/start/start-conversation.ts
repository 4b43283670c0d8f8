import { log } from "../log";
import { normalizeId } from "../openhands/client";
import type { StartConversationRequest, StartTask } from "../openhands/types";
import { buildPrompt } from "../prompt/build";
import { dashed } from "../tasks/ids";
import { type Task, transition } from "../tasks/task";
import type { Services } from "./services";

export function startRequestFor(task: Task, link: (conversationId: string) => string): StartConversationRequest {
  const { request, previous } = task;
  const context = previous ? { link: link(previous.conversationId), summary: previous.summary } : undefined;
  return {
    conversation_id: dashed(task.id),
    initial_message: { content: [{ type: "text", text: buildPrompt(request, task.branch, context, task.context) }] },
    selected_repository: request.repository,
    ...(task.branch ? { selected_branch: task.branch } : {}),
    git_provider: "github",
    trigger: "resolver",
    ...(request.isPullRequest ? { pr_number: [request.number] } : {}),
  };
}

/**
 * Asks OpenHands to start the task's conversation and records the start task.
 * OpenHands errors propagate to the caller, which decides between retry and failure.
 *
 * After a first attempt, an earlier call may have reached the service without
 * our hearing back, so the start task is first looked up by the conversation id
 * we chose: a retried start never makes a second agent.
 */
export async function startConversation(services: Services, task: Task): Promise<Task> {
  const { openhands, store } = services;
  const now = services.now();
  const existing = task.attempts > 0 ? liveStartTask(await openhands.findStartTasks(task.id)) : null;
  const started = existing ?? (await openhands.startConversation(startRequestFor(task, (id) => openhands.conversationLink(id))));
  const next = transition(
    task,
    "starting",
    {
      startTaskId: normalizeId(started.id),
      attempts: task.attempts + 1,
      startedAt: now.toISOString(),
      nextAttemptAt: undefined,
      lastError: undefined,
    },
    now,
  );
  await store.save(next, task);
  log("info", "task.started", { task: task.id, startTask: next.startTaskId, recovered: Boolean(existing) });
  return next;
}

/** The start task worth following among several for one conversation: one that has not failed. */
function liveStartTask(startTasks: readonly StartTask[]): StartTask | null {
  return startTasks.find((t) => t.status === "READY") ?? startTasks.find((t) => t.status !== "ERROR") ?? null;
}

/**
 * A start refused because the conversation already exists (a duplicate delivery
 * that raced past the KV check) is not a failure: follow the conversation that
 * exists, or the other start that is making it.
 */
export async function adoptExistingConversation(services: Services, task: Task): Promise<Task | null> {
  const { openhands, store } = services;
  const now = services.now();
  const [conversation] = await openhands.conversations([task.id]);
  const base = task.status === "queued" ? transition(task, "starting", { startedAt: now.toISOString() }, now) : task;
  const settled = { nextAttemptAt: undefined, lastError: undefined };
  let next: Task | undefined;
  if (conversation) {
    next = transition(base, "running", { ...settled, readyAt: now.toISOString() }, now);
  } else {
    const other = liveStartTask((await openhands.findStartTasks(task.id)).filter((t) => normalizeId(t.id) !== task.startTaskId));
    if (other) next = transition(base, "starting", { ...settled, startTaskId: normalizeId(other.id) }, now);
  }
  if (!next) return null;
  await store.save(next, task);
  log("info", "task.adopted_existing_start", { task: task.id, status: next.status });
  return next;
}
