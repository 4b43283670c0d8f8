import type { Services } from "../start/services";
import { createComment, findCommentWithMarker, updateComment } from "../github/thread";
import type { Task } from "../tasks/task";
import { taskMarker } from "./messages";

/**
 * Puts `body` in the task's one tracking comment: edits it in place when we know
 * it, otherwise adopts the comment carrying the task's marker, otherwise posts it.
 * Replaying this with the same body changes nothing, which is what makes the
 * final report safe when two cron runs overlap or a save is lost. Whatever the
 * body quotes (agent output, upstream errors) is scrubbed of secrets first.
 */
export async function publishTrackingComment(
  services: Pick<Services, "github" | "redact">,
  task: Task,
  text: string,
  extraSecrets: readonly (string | null | undefined)[] = [],
): Promise<number> {
  const github = services.github(task.request.installationId);
  const body = services.redact(text, extraSecrets);
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
