import {
  createComment,
  createReviewReply,
  findCommentWithMarker,
  findReviewCommentWithMarker,
  updateComment,
  updateReviewComment,
  writtenByApp,
} from "../github/thread";
import { httpStatus } from "../http-status";
import { taskMarker } from "../own-marker";
import type { Services } from "../services";
import type { Task } from "../tasks/task";

/**
 * Puts `body` in the task's one tracking comment: edits it in place when we know
 * it, otherwise adopts the comment carrying the task's marker, otherwise posts it.
 * Replaying this with the same body changes nothing, which is what makes the
 * final report safe when two cron runs overlap or a save is lost. Whatever the
 * body quotes (agent output, upstream errors) is scrubbed of secrets first.
 */
export async function publishTrackingComment(
  services: Pick<Services, "github" | "redact" | "config" | "appIdentity">,
  task: Task,
  text: string,
  extraSecrets: readonly (string | null | undefined)[] = [],
): Promise<number> {
  const github = services.github(task.request.installationId);
  const appId = Number(services.config.appId);
  const body = services.redact(text, extraSecrets);
  const thread = { owner: task.request.owner, repo: task.request.repo, number: task.request.number };
  // An inline review comment is answered in its review thread, everything else on the conversation.
  const review = task.request.reviewComment;
  const place = review
    ? {
        // Review comments do not say which App wrote them: the bot's login does.
        find: async () => {
          const { slug } = await services.appIdentity();
          return findReviewCommentWithMarker(
            github,
            thread,
            taskMarker(task.id),
            writtenByApp({ id: appId, botLogin: `${slug}[bot]` }),
          );
        },
        update: (id: number) => updateReviewComment(github, thread, id, body),
        create: () => createReviewReply(github, thread, review.commentId, body),
      }
    : {
        find: () => findCommentWithMarker(github, thread, taskMarker(task.id), writtenByApp({ id: appId })),
        update: (id: number) => updateComment(github, thread, id, body),
        create: () => createComment(github, thread, body),
      };
  const known = task.trackingCommentId ?? (await place.find());
  if (known !== undefined) {
    try {
      await place.update(known);
      return known;
    } catch (error) {
      // The comment was deleted, or GitHub will not let us edit it (locked, or not ours
      // after all): the answer still has to reach them, in a new comment, not a retry loop.
      if (![403, 404, 410].includes(httpStatus(error) ?? 0)) throw error;
    }
  }
  return place.create();
}
