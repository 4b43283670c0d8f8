import { CHECKS_COST, failingChecks } from "../github/checks";
import type { GitHub } from "../github/client";
import type { PullRequestHead } from "../github/pulls";
import { listIssueComments, listReviewComments, pullRequestFiles, type ThreadComment } from "../github/thread";
import { OWN_MARKER } from "../own-marker";
import { boundDiscussion, type ThreadContext } from "../prompt/context";
import { type TriggerRequest, threadOf } from "../trigger/request";

/**
 * Outbound requests gathering may make: two pages of comments, the PR's files, two pages of review comments,
 * the failing checks of the PR's head.
 */
export const GATHER_COST = 5 + CHECKS_COST;

/**
 * What the thread says besides the request, read once when the request is
 * accepted and kept with the task, so a retried start sends the same prompt.
 * Only what was there when the request was made counts: a comment written or
 * edited afterwards must not change the task.
 */
export async function gatherContext(
  github: GitHub,
  request: TriggerRequest,
  head: PullRequestHead | undefined,
  fetchLog: typeof fetch,
): Promise<ThreadContext> {
  const thread = threadOf(request);
  const asked = Date.parse(request.triggeredAt);
  const before = (c: ThreadComment) => !(Date.parse(c.createdAt) > asked) && !(Date.parse(c.updatedAt) > asked);
  const human = (c: ThreadComment) => !c.isBot && !c.body.includes(OWN_MARKER);

  const { comments, skipped } = await listIssueComments(github, thread);
  const earlier = comments.filter((c) => c.id !== request.reactTo.id || request.reactTo.type !== "issue_comment");
  const usable = earlier.filter((c) => human(c) && before(c));
  const { kept, omitted } = boundDiscussion(usable.map((c) => ({ author: c.author, body: c.body, at: c.createdAt })));
  const context: ThreadContext = {
    ...(request.labels?.length ? { labels: request.labels } : {}),
    discussion: kept,
    omitted: omitted + (earlier.length - usable.length) + skipped,
  };

  if (request.isPullRequest && head) {
    const files = await pullRequestFiles(github, thread);
    context.pullRequest = {
      base: head.baseRef,
      head: head.ref,
      files,
      moreFiles: Math.max(0, head.changedFiles - files.length),
    };
    // Whatever the request, red checks on the head are what the agent would look for first.
    const failing = head.sha ? await failingChecks(github, thread, head.sha, fetchLog) : undefined;
    if (failing?.length) context.checks = { head: head.sha, failing };
  }
  const review = request.reviewComment;
  if (review) {
    const { comments: reviewComments } = await listReviewComments(github, thread);
    context.reviewThread = reviewComments
      .filter(
        (c) =>
          (c.id === review.commentId || c.inReplyTo === review.commentId) &&
          c.id !== request.reactTo.id &&
          human(c) &&
          before(c),
      )
      .map((c) => ({ author: c.author, body: c.body }));
  }
  return context;
}
