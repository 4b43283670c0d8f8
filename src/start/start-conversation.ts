import { log } from "../log";
import { normalizeId } from "../openhands/client";
import { OpenHandsError } from "../openhands/errors";
import type { StartConversationRequest } from "../openhands/types";
import { failedComment, queuedComment } from "../report/messages";
import { publishTrackingComment } from "../report/publish";
import { dashed } from "../tasks/ids";
import { type Task, transition } from "../tasks/task";
import type { Services } from "./services";

const BASE_BACKOFF_MS = 60_000;
const MAX_BACKOFF_MS = 30 * 60_000;

export function startRequestFor(task: Task): StartConversationRequest {
  return {
    conversation_id: dashed(task.id),
    initial_message: { content: [{ type: "text", text: task.prompt }] },
    selected_repository: task.repository,
    ...(task.branch ? { selected_branch: task.branch } : {}),
    git_provider: "github",
    trigger: "resolver",
    ...(task.isPullRequest ? { pr_number: [task.number] } : {}),
  };
}

/**
 * Asks OpenHands to start the task's conversation. A refusal that may pass (429,
 * 5xx, timeout, garbage) leaves the task queued for the cron, with backoff; one
 * that cannot pass, or too many attempts, ends it with the reason on GitHub.
 *
 * `recover` is set when an earlier attempt may have reached the service without
 * our hearing back: the start task is then looked up by the conversation id we
 * chose instead of starting a second agent.
 */
export async function startConversation(services: Services, task: Task, recover: boolean): Promise<Task> {
  const { openhands, store, config } = services;
  const now = services.now();
  const attempts = task.startAttempts + 1;
  try {
    const existing = recover ? await openhands.findStartTask(task.id) : null;
    const started = existing ?? (await openhands.startConversation(startRequestFor(task)));
    const next = transition(
      task,
      "starting",
      {
        startTaskId: normalizeId(started.id),
        startAttempts: attempts,
        startedAt: now.toISOString(),
        nextAttemptAt: undefined,
        lastError: undefined,
      },
      now,
    );
    await store.save(next, task);
    log("info", "task.started", { task: task.id, startTask: next.startTaskId, recovered: Boolean(existing) });
    return next;
  } catch (error) {
    if (!(error instanceof OpenHandsError)) throw error;
    const link = openhands.conversationLink(task.id);
    const github = services.github(task.installationId);
    if (error.retryable && attempts < config.startMaxAttempts) {
      const backoff = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempts - 1));
      const retryAt = new Date(Math.max(now.getTime() + backoff, error.retryAt ?? 0));
      const next = transition(
        task,
        "queued",
        { startAttempts: attempts, nextAttemptAt: retryAt.toISOString(), lastError: error.message },
        now,
      );
      log("warn", "task.start_deferred", { task: task.id, attempts, retryAt: next.nextAttemptAt, reason: error.message });
      next.trackingCommentId = await publishTrackingComment(
        github,
        next,
        queuedComment({ task: next, link, reason: error.message, retryAt }),
      ).catch(() => next.trackingCommentId);
      await store.save(next, task);
      return next;
    }
    log("error", "task.start_failed", { task: task.id, attempts, reason: error.message });
    const reason = error.retryable
      ? `OpenHands could not be reached after ${attempts} attempts (${error.message})`
      : `OpenHands refused to start it (${error.message})`;
    const next = transition(task, "failed", { startAttempts: attempts, lastError: error.message }, now);
    const durationMs = now.getTime() - Date.parse(task.createdAt);
    next.trackingCommentId = await publishTrackingComment(github, next, failedComment({ task: next, link, reason, durationMs }));
    next.outcome = { summary: reason, finishedAt: now.toISOString() };
    await store.save(next, task);
    return next;
  }
}
