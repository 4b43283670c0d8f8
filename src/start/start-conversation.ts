import { log } from "../log";
import { normalizeId } from "../openhands/client";
import type { StartConversationRequest } from "../openhands/types";
import { issueCommentPrompt } from "../prompt/issue-comment";
import { dashed } from "../tasks/ids";
import { type Task, transition } from "../tasks/task";
import type { Services } from "./services";

export function startRequestFor(task: Task): StartConversationRequest {
  const { request } = task;
  return {
    conversation_id: dashed(task.id),
    initial_message: { content: [{ type: "text", text: issueCommentPrompt({ ...request, branch: task.branch }) }] },
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
  const existing = task.attempts > 0 ? await openhands.findStartTask(task.id) : null;
  const started = existing ?? (await openhands.startConversation(startRequestFor(task)));
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

/**
 * A start refused because the conversation already exists (a duplicate delivery
 * that raced past the KV check) is not a failure: follow the conversation that exists.
 */
export async function adoptExistingConversation(services: Services, task: Task): Promise<Task | null> {
  const [conversation] = await services.openhands.conversations([task.id]).catch(() => [null]);
  if (!conversation) return null;
  const now = services.now();
  const next = transition(
    task,
    task.status === "queued" ? "starting" : task.status,
    { startedAt: task.startedAt ?? now.toISOString(), nextAttemptAt: undefined, lastError: undefined },
    now,
  );
  const running = transition(next, "running", { readyAt: now.toISOString() }, now);
  await services.store.save(running, task);
  log("info", "task.adopted_existing_conversation", { task: task.id });
  return running;
}
