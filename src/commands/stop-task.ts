import { log } from "../log";
import { stoppedComment } from "../report/messages";
import { publishTrackingComment } from "../report/publish";
import type { Services } from "../start/services";
import { type Task, transition } from "../tasks/task";

/**
 * Pausing keeps the conversation readable at its link and frees its slot; a
 * task that never reached OpenHands just ends. A sandbox not yet made (404) is
 * paused by the poller as soon as the start is ready.
 */
export async function stopTask(services: Services, task: Task, by: string): Promise<Task> {
  const now = services.now();
  if (task.status !== "queued") {
    try {
      await services.openhands.pauseSandbox(task.id);
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
      if (task.status === "starting") {
        const next = { ...task, stopRequestedBy: by };
        await services.store.save(next, task);
        log("info", "task.stop_requested", { task: task.id });
        return next;
      }
    }
  }
  const link = services.openhands.conversationLink(task.id);
  const next = transition(task, "stopped", { outcome: { summary: `stopped by @${by}`, finishedAt: now.toISOString() } }, now);
  next.trackingCommentId = await publishTrackingComment(services, next, stoppedComment({ task: next, link, by }));
  await services.store.save(next, task);
  log("info", "task.stopped", { task: task.id });
  return next;
}
