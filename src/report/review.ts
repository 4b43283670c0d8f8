import type { Hunk } from "../github/diff-hunks";
import { onTheDiff } from "../github/diff-hunks";
import {
  createReview,
  findReview,
  type InlineComment,
  pullRequestHunks,
  REVIEW_FILE_PAGES,
  REVIEW_LIST_COST,
} from "../github/reviews";
import { httpStatus } from "../http-status";
import { claimInIsolate, releaseClaim } from "../isolate-claims";
import { log } from "../log";
import type { RunMetrics } from "../openhands/metrics";
import { type AgentReview, type ReviewComment, readReviewBlock } from "../openhands/review-block";
import { reviewCounts } from "../own-marker";
import type { Services } from "../services";
import type { Task } from "../tasks/task";
import { threadOf } from "../trigger/request";
import { reviewBody, reviewCommentBody } from "./messages";

/** GitHub requests a review may cost: the App's earlier review looked for, the files' patches, the post and its retry. */
export const REVIEW_COST = REVIEW_LIST_COST + REVIEW_FILE_PAGES + 2;

/** More inline comments than a reader takes in; the rest are listed in the review's body. */
export const MAX_INLINE_COMMENTS = 30;

/** The review as GitHub shows it, for the tracking comment. */
export interface PostedReview {
  url: string;
  inline: number;
  folded: number;
  /** The agent wrote no block that parses: its final message is the review's body. */
  fromMessage: boolean;
}

/** Comments on the diff go on their lines; the others (and any past the first 30) in the body, under file and line. */
export function placeComments(
  comments: readonly ReviewComment[],
  hunks: ReadonlyMap<string, readonly Hunk[]>,
): { inline: ReviewComment[]; folded: ReviewComment[] } {
  const inline: ReviewComment[] = [];
  const folded: ReviewComment[] = [];
  for (const comment of comments) {
    const onDiff = onTheDiff(hunks.get(comment.path) ?? [], comment.side, comment.line, comment.startLine);
    (onDiff && inline.length < MAX_INLINE_COMMENTS ? inline : folded).push(comment);
  }
  return { inline, folded };
}

type ReviewView = { message: string; link: string; durationMs: number; metrics?: RunMetrics };

/** Longer than posting a review takes; the claim is released as soon as the post is done, either way. */
const POSTING_CLAIM_MS = 2 * 60_000;

/** Another request of this isolate is posting the task's review: this tick leaves the task to the next. */
class ReviewBeingPostedError extends Error {
  override name = "ReviewBeingPostedError";
}

/**
 * Posts the agent's review on the pull request, once: a review of this task already there (a
 * retry after a lost save) is taken for it. Two overlapping ticks would both find none yet and
 * both post (a review is not an edit), so only the one holding the isolate's claim goes on; across
 * isolates the lookup is what holds.
 */
export async function postReview(services: Services, task: Task, view: ReviewView): Promise<PostedReview> {
  const claim = `review:${task.id}`;
  if (!claimInIsolate(claim, POSTING_CLAIM_MS)) throw new ReviewBeingPostedError(`task ${task.id}`);
  try {
    return await postReviewOnce(services, task, view);
  } finally {
    releaseClaim(claim);
  }
}

/**
 * When GitHub refuses the comments (422: a line it does not take as part of the diff), every
 * comment goes into the body.
 */
async function postReviewOnce(services: Services, task: Task, view: ReviewView): Promise<PostedReview> {
  const github = services.github(task.request.installationId);
  const thread = threadOf(task.request);
  const block = readReviewBlock(view.message);
  const fromMessage = block === undefined;
  const review: AgentReview = block ?? { summary: view.message, comments: [], unreadable: 0 };
  const posted = await findReview(github, thread, (body) => reviewCounts(body, task.id) !== undefined);
  if (posted) return { url: posted.url, fromMessage, ...reviewCounts(posted.body, task.id)! };
  const placed = placeComments(review.comments, await pullRequestHunks(github, thread));
  const post = (inline: readonly ReviewComment[], folded: readonly ReviewComment[]) => {
    const counts = { inline: inline.length, folded: folded.length };
    const body = reviewBody({ task, ...view, summary: review.summary, folded, unreadable: review.unreadable, counts });
    const comments: InlineComment[] = inline.map((comment) => ({
      ...comment,
      body: services.redact(reviewCommentBody(comment.body, view.link)),
    }));
    return createReview(github, thread, { commitId: task.headSha, body: services.redact(body), comments }).then(
      (made) => ({ url: made.url, fromMessage, ...counts }),
    );
  };
  try {
    return await post(placed.inline, placed.folded);
  } catch (error) {
    if (httpStatus(error) !== 422 || placed.inline.length === 0) throw error;
    log("warn", "github.review_comments_refused", { task: task.id, comments: placed.inline.length });
    return post([], [...placed.inline, ...placed.folded]);
  }
}
