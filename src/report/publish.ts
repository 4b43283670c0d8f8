import { refusedForGood, ThreadGoneError } from "../github/gone";
import {
  createComment,
  createReviewReply,
  findCommentWithMarker,
  findReviewCommentWithMarker,
  updateComment,
  updateReviewComment,
  writtenByApp,
} from "../github/thread";
import { taskMarker } from "../own-marker";
import type { Services } from "../services";
import type { Task } from "../tasks/task";
import { threadOf } from "../trigger/request";

/**
 * Puts `body` in the task's one tracking comment: edits it in place when we know
 * it, otherwise adopts the comment carrying the task's marker, otherwise posts it.
 * Replaying this with the same body changes nothing, which is what makes the
 * final report safe when two cron runs overlap or a save is lost. Whatever the
 * body quotes (agent output, upstream errors) is scrubbed of secrets first.
 * Throws `ThreadGoneError` when the thread will take no comment; any other
 * failure (a rate limit, a 5xx) is thrown as it came, to be tried again.
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
  const thread = threadOf(task.request);
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
  const known = task.trackingCommentId ?? (await findUnlessGone(place.find));
  let editStatus: number | undefined;
  if (known !== undefined) {
    try {
      await place.update(known);
      return known;
    } catch (error) {
      // The comment was deleted, or GitHub will not let us edit it (locked, or not ours after all):
      // the answer still has to reach them, in a new comment, not a retry loop. A rate limit is
      // not that: a new comment now would be a second one once the edit goes through.
      editStatus = refusedForGood(error);
      if (editStatus === undefined) throw error;
    }
  }
  try {
    return await place.create();
  } catch (error) {
    const status = refusedForGood(error);
    if (status === undefined) throw error;
    throw new ThreadGoneError(status, editStatus);
  }
}

/** A thread that cannot be listed (deleted: 410) may still say so more plainly to the new comment, which decides. */
async function findUnlessGone(find: () => Promise<number | undefined>): Promise<number | undefined> {
  try {
    return await find();
  } catch (error) {
    if (refusedForGood(error) === undefined) throw error;
    return undefined;
  }
}
