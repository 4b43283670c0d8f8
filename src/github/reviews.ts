import { isObject } from "../is-object";
import type { DiffSide } from "../openhands/review-block";
import type { GitHub } from "./client";
import { diffHunks, type Hunk } from "./diff-hunks";
import { GitHubGarbageError } from "./errors";
import { changedFilesPage, firstAndLastRows, type Thread } from "./thread";

/** Pages of `GET /pulls/{n}/files` read for a review: GitHub lists at most 3,000 files, 100 a page. */
export const REVIEW_FILE_PAGES = 3;

/** The hunks of each file a pull request changes, by path; a file without a patch (binary, too large) has none. */
export async function pullRequestHunks(github: GitHub, thread: Thread): Promise<Map<string, Hunk[]>> {
  const hunks = new Map<string, Hunk[]>();
  for (let page = 1; page <= REVIEW_FILE_PAGES; page++) {
    const files = await changedFilesPage(github, thread, page);
    for (const file of files) hunks.set(file.filename, file.patch === undefined ? [] : diffHunks(file.patch));
    if (files.length < 100) break;
  }
  return hunks;
}

/** One comment of a review, as the review endpoint takes it. */
export interface InlineComment {
  path: string;
  line: number;
  side: DiffSide;
  startLine?: number;
  body: string;
}

/**
 * Posts one review (`event: COMMENT`: it neither approves nor blocks) on the commit it looked at.
 * GitHub refuses all of it (422) when one comment is off the diff.
 */
export async function createReview(
  github: GitHub,
  thread: Thread,
  review: { commitId?: string; body: string; comments: readonly InlineComment[] },
): Promise<{ id: number; url: string }> {
  const { data } = await github.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
    owner: thread.owner,
    repo: thread.repo,
    pull_number: thread.number,
    event: "COMMENT",
    body: review.body,
    ...(review.commitId ? { commit_id: review.commitId } : {}),
    comments: review.comments.map((comment) => ({
      path: comment.path,
      line: comment.line,
      side: comment.side,
      ...(comment.startLine !== undefined ? { start_line: comment.startLine, start_side: comment.side } : {}),
      body: comment.body,
    })),
  });
  if (!isObject(data) || typeof data.id !== "number" || typeof data.html_url !== "string")
    throw new GitHubGarbageError("create review");
  return { id: data.id, url: data.html_url };
}

/**
 * The pull request's reviews, newest first: the first and the last hundred, since GitHub lists them
 * oldest first and what the App posted lately is at the end. At most two calls.
 */
async function newestReviews(github: GitHub, thread: Thread): Promise<Record<string, unknown>[]> {
  const { rows } = await firstAndLastRows(
    (page) =>
      github.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
        owner: thread.owner,
        repo: thread.repo,
        pull_number: thread.number,
        per_page: 100,
        ...(page ? { page } : {}),
      }),
    "list reviews",
  );
  return rows.reverse();
}

/** GitHub requests `findReview` or `lastReviewedHead` make at most. */
export const REVIEW_LIST_COST = 2;

/** The newest review whose body `matches`. */
export async function findReview(
  github: GitHub,
  thread: Thread,
  matches: (body: string) => boolean,
): Promise<{ url: string; body: string } | undefined> {
  const found = (await newestReviews(github, thread)).find(
    (review) => typeof review.body === "string" && matches(review.body),
  );
  return found && typeof found.html_url === "string" ? { url: found.html_url, body: String(found.body) } : undefined;
}

/**
 * The commit the App's newest review on the pull request looked at: a review by a bot account (no
 * person can write as one) whose body `isOwn` says is the App's.
 */
export async function lastReviewedHead(
  github: GitHub,
  thread: Thread,
  isOwn: (body: string) => boolean,
): Promise<string | undefined> {
  const own = (await newestReviews(github, thread)).find(
    (review) =>
      isObject(review.user) &&
      review.user.type === "Bot" &&
      typeof review.body === "string" &&
      isOwn(review.body) &&
      typeof review.commit_id === "string",
  );
  return own ? String(own.commit_id) : undefined;
}
