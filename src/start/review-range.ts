import type { GitHub } from "../github/client";
import type { PullRequestHead } from "../github/pulls";
import { lastReviewedHead, REVIEW_LIST_COST } from "../github/reviews";
import { isOwnReview } from "../own-marker";
import { type TriggerRequest, threadOf } from "../trigger/request";

/** What finding the range may cost: the App's reviews listed, first and last page. */
export const REVIEW_RANGE_COST = REVIEW_LIST_COST;

/** A commit id as GitHub writes it (SHA-1, or SHA-256): safe to quote in a prompt. */
const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Where a review starts: after the head the App's last review on the pull request looked at, so a
 * re-review (asked for, or after a push) covers only the commits since. A pull request the App never
 * reviewed, or one whose head it reviewed already (someone asks again), is reviewed whole.
 */
export async function reviewSince(
  github: GitHub,
  request: TriggerRequest,
  head: PullRequestHead | undefined,
): Promise<string | undefined> {
  if (!request.review || !head?.sha) return undefined;
  const last = await lastReviewedHead(github, threadOf(request), isOwnReview);
  return last && last !== head.sha && COMMIT.test(last) ? last : undefined;
}
