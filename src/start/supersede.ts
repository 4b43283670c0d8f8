import { stopTask } from "../commands/stop-task";
import type { Services } from "../services";
import type { TaskEntry } from "../tasks/store";
import { isPending, type Task } from "../tasks/task";
import { threadKey } from "../trigger/request";

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
  const thread = threadKey(task.request);
  const created = Date.parse(task.createdAt);
  const stopped = new Map<string, TaskEntry["status"]>();
  for (const entry of entries) {
    if (entry.thread !== thread || entry.id === task.id || entry.createdMs > created || !isPending(entry.status))
      continue;
    const older = await services.store.get(entry.id);
    if (!older || !isPending(older.status) || older.request.kind !== "automatic" || older.stopRequestedBy) continue;
    stopped.set(entry.id, (await stopTask(services, older, task.request.requester, head)).status);
  }
  return entries.map((entry) => {
    const status = stopped.get(entry.id);
    return status ? { ...entry, status } : entry;
  });
}
