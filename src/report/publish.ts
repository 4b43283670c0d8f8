import type { GitHub } from "../github/client";
import { createComment, findCommentWithMarker, updateComment } from "../github/thread";
import type { Task } from "../tasks/task";
import { taskMarker } from "./messages";

/**
 * Puts `body` in the task's one tracking comment: edits it in place when we know
 * it, otherwise adopts the comment carrying the task's marker, otherwise posts it.
 * Replaying this with the same body changes nothing, which is what makes the
 * final report safe when two cron runs overlap or a save is lost.
 */
export async function publishTrackingComment(github: GitHub, task: Task, body: string): Promise<number> {
  const thread = { owner: task.request.owner, repo: task.request.repo, number: task.request.number };
  const known = task.trackingCommentId ?? (await findCommentWithMarker(github, thread, taskMarker(task.id)));
  if (known !== undefined) {
    try {
      await updateComment(github, thread, known, body);
      return known;
    } catch (error) {
      // Someone deleted the tracking comment: the answer still has to reach them.
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }
  return createComment(github, thread, body);
}
