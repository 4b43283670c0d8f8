import { stopTask } from "../commands/stop-task";
import { pullRequestHead } from "../github/pulls";
import type { Services } from "../services";
import type { TaskEntry } from "../tasks/store";
import { isPending, type Task } from "../tasks/task";
import { threadOf } from "../trigger/request";
import { earlierOnThread } from "./follow-up";

/** What stopping the older review may cost: its conversation read, the pause, the comment's edit and a retry. */
export const SUPERSEDE_COST = 4;

/**
 * A review of a push replaces the automatic review of an older head still going on the thread: that one
 * is stopped, and its comment names the push that superseded it, so the pull request gets one review of
 * what it holds now. A review a person asked for is never stopped by a push. Returns the thread's
 * entries as they stand after it; a review whose pause has not taken yet is still pending, and the new
 * one waits for it like any request on a busy thread.
 */
export async function supersedeOlderReviews(
  services: Services,
  task: Task,
  entries: readonly TaskEntry[],
): Promise<readonly TaskEntry[]> {
  const head = task.headSha;
  if (task.request.review?.automatic !== "on_push" || !head) return entries;
  const stopped = new Map<string, TaskEntry["status"]>();
  for (const entry of earlierOnThread(task, entries)) {
    if (!isPending(entry.status)) continue;
    const older = await services.store.get(entry.id);
    if (!older || !isPending(older.status) || older.request.kind !== "automatic" || older.stopRequestedBy) continue;
    stopped.set(entry.id, (await stopTask(services, older, task.request.requester, head)).status);
  }
  return entries.map((entry) => {
    const status = stopped.get(entry.id);
    return status ? { ...entry, status } : entry;
  });
}

/** What looking for a newer head may cost: the pull request read, then the stop. */
export const HEAD_CHECK_COST = 1 + SUPERSEDE_COST;

/**
 * The poller's half of superseding, for a repository without `review.on_push` (no review of the push
 * stops the old one) or a push whose delivery was lost: a running automatic review whose pull request
 * has another head now is stopped, and its comment names that head. Nothing else changes the head: the
 * agent pushes nothing in a review.
 */
export async function supersedeIfMoved(services: Services, task: Task): Promise<Task> {
  if (!task.request.review?.automatic || !task.headSha) return task;
  const head = await pullRequestHead(services.github(task.request.installationId), threadOf(task.request));
  if (!head.sha || head.sha === task.headSha) return task;
  return stopTask(services, task, task.request.author ?? task.request.requester, head.sha);
}
