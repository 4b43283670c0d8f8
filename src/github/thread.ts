import { httpStatus } from "../http-status";
import { isObject } from "../is-object";
import { defuseOpenHandsMention } from "../openhands/github-app";
import type { ReactionTarget } from "../trigger/request";
import { isBot } from "./bot";
import type { GitHub } from "./client";
import { GitHubGarbageError } from "./errors";

/** An issue or pull request conversation: where the App answers. */
export interface Thread {
  owner: string;
  repo: string;
  number: number;
}

/**
 * Every comment the App writes goes through here: whatever it quotes (the agent's
 * text, a configured mention of `@openhands`) must not start OpenHands' own App.
 */
function outgoing(body: string): string {
  return defuseOpenHandsMention(body);
}

/** 👀 on whatever asked: an issue comment, a review comment, or the issue/PR itself. */
export async function addEyes(github: GitHub, thread: Thread, target: ReactionTarget): Promise<void> {
  const base = { owner: thread.owner, repo: thread.repo, content: "eyes" as const };
  const { data } =
    target.type === "issue_comment"
      ? await github.request("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", {
          ...base,
          comment_id: target.id,
        })
      : target.type === "review_comment"
        ? await github.request("POST /repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions", {
            ...base,
            comment_id: target.id,
          })
        : await github.request("POST /repos/{owner}/{repo}/issues/{issue_number}/reactions", {
            ...base,
            issue_number: target.id,
          });
  if (!isObject(data) || data.content !== "eyes") throw new GitHubGarbageError("add reaction");
}

export async function createComment(github: GitHub, thread: Thread, body: string): Promise<number> {
  const { data } = await github.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
    owner: thread.owner,
    repo: thread.repo,
    issue_number: thread.number,
    body: outgoing(body),
  });
  if (!isObject(data) || typeof data.id !== "number") throw new GitHubGarbageError("create comment");
  return data.id;
}

export async function updateComment(github: GitHub, thread: Thread, commentId: number, body: string): Promise<void> {
  // The edit is what the user waits for: an answer we cannot read may not have applied it.
  const { data } = await github.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", {
    owner: thread.owner,
    repo: thread.repo,
    comment_id: commentId,
    body: outgoing(body),
  });
  if (!isObject(data) || data.id !== commentId) throw new GitHubGarbageError("edit comment");
}

/** The text of one comment now: an issue comment, or an inline review comment (`review`). */
export async function readCommentBody(
  github: GitHub,
  thread: Thread,
  commentId: number,
  review: boolean,
): Promise<string> {
  const route = review
    ? "GET /repos/{owner}/{repo}/pulls/comments/{comment_id}"
    : "GET /repos/{owner}/{repo}/issues/comments/{comment_id}";
  const { data } = await github.request(route, { owner: thread.owner, repo: thread.repo, comment_id: commentId });
  if (!isObject(data) || typeof data.body !== "string") throw new GitHubGarbageError("get comment");
  return data.body;
}

/**
 * Whether a listed comment is the App's own. Anyone can type the hidden marker,
 * and task ids are predictable (derived from the trigger), so a marker alone
 * proves nothing: the author must be the App. Issue comments name the App that
 * wrote them (`performed_via_github_app`); review comments only carry the bot user.
 */
export type IsOwnComment = (comment: Record<string, unknown>) => boolean;

export function writtenByApp(app: { id: number; botLogin?: string }): IsOwnComment {
  return (comment) => {
    const via = comment.performed_via_github_app;
    if (isObject(via) && via.id === app.id) return true;
    const user = comment.user;
    return (
      Boolean(app.botLogin) &&
      isObject(user) &&
      user.type === "Bot" &&
      String(user.login).toLowerCase() === app.botLogin!.toLowerCase()
    );
  };
}

/**
 * Finds a comment we posted earlier by the hidden marker it carries, so that a
 * retry after a lost write adopts that comment instead of posting a second one.
 */
export async function findCommentWithMarker(
  github: GitHub,
  thread: Thread,
  marker: string,
  isOwn: IsOwnComment,
  /** Only comments created at or after this time (ms). */
  sinceMs = 0,
): Promise<number | undefined> {
  const comments = await paginateSafely("list comments", () =>
    github.paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      owner: thread.owner,
      repo: thread.repo,
      issue_number: thread.number,
      per_page: 100,
    }),
  );
  const found = comments.find(
    (comment) =>
      typeof comment.body === "string" &&
      comment.body.includes(marker) &&
      isOwn(comment) &&
      (sinceMs === 0 || Date.parse(String(comment.created_at)) >= sinceMs),
  );
  return found ? Number(found.id) : undefined;
}

/** A reply in an inline review thread; `topCommentId` is the thread's first comment. */
export async function createReviewReply(
  github: GitHub,
  thread: Thread,
  topCommentId: number,
  body: string,
): Promise<number> {
  const { data } = await github.request(
    "POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies",
    {
      owner: thread.owner,
      repo: thread.repo,
      pull_number: thread.number,
      comment_id: topCommentId,
      body: outgoing(body),
    },
  );
  if (!isObject(data) || typeof data.id !== "number") throw new GitHubGarbageError("reply in review thread");
  return data.id;
}

export async function updateReviewComment(
  github: GitHub,
  thread: Thread,
  commentId: number,
  body: string,
): Promise<void> {
  const { data } = await github.request("PATCH /repos/{owner}/{repo}/pulls/comments/{comment_id}", {
    owner: thread.owner,
    repo: thread.repo,
    comment_id: commentId,
    body: outgoing(body),
  });
  if (!isObject(data) || data.id !== commentId) throw new GitHubGarbageError("edit review comment");
}

export async function findReviewCommentWithMarker(
  github: GitHub,
  thread: Thread,
  marker: string,
  isOwn: IsOwnComment,
): Promise<number | undefined> {
  const comments = await paginateSafely("list review comments", () =>
    github.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/comments", {
      owner: thread.owner,
      repo: thread.repo,
      pull_number: thread.number,
      per_page: 100,
    }),
  );
  const found = comments.find(
    (comment) => typeof comment.body === "string" && comment.body.includes(marker) && isOwn(comment),
  );
  return found ? Number(found.id) : undefined;
}

/** The paginator assumes well-formed pages; an unreadable one surfaces as a retryable garbage error. */
async function paginateSafely(what: string, list: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  let items: unknown;
  try {
    items = await list();
  } catch (error) {
    if (httpStatus(error) !== undefined) throw error;
    throw new GitHubGarbageError(what);
  }
  if (!Array.isArray(items)) throw new GitHubGarbageError(what);
  return items.filter(isObject);
}

export interface ThreadComment {
  id: number;
  author: string;
  isBot: boolean;
  body: string;
  createdAt: string;
  updatedAt: string;
  inReplyTo?: number;
}

function toThreadComment(c: Record<string, unknown>): ThreadComment | undefined {
  const user = isObject(c.user) ? c.user : {};
  if (typeof c.id !== "number" || typeof c.body !== "string") return undefined;
  const login = typeof user.login === "string" ? user.login : "ghost";
  return {
    id: c.id,
    author: login,
    isBot: isBot({ login, type: typeof user.type === "string" ? user.type : undefined }),
    body: c.body,
    createdAt: String(c.created_at ?? ""),
    updatedAt: String(c.updated_at ?? c.created_at ?? ""),
    ...(typeof c.in_reply_to_id === "number" ? { inReplyTo: c.in_reply_to_id } : {}),
  };
}

/** One page of a list, as GitHub answers it (its `Link` header says where the last page is). */
export type ListPage = (page?: number) => Promise<{ data: unknown; headers: { link?: string } }>;

/**
 * The oldest and the newest hundred rows of a list GitHub gives oldest first, at most two calls
 * whatever its length, and how many rows in between were not read (those pages are full). `what`
 * names the list when GitHub answers something else.
 */
export async function firstAndLastRows(
  fetchPage: ListPage,
  what: string,
): Promise<{ rows: Record<string, unknown>[]; skipped: number }> {
  const first = await fetchPage();
  if (!Array.isArray(first.data)) throw new GitHubGarbageError(what);
  const last = /<[^>]*[?&]page=(\d+)[^>]*>;\s*rel="last"/.exec(first.headers.link ?? "");
  let rows: unknown[] = first.data;
  let skipped = 0;
  if (last && Number(last[1]) > 1) {
    const page = await fetchPage(Number(last[1]));
    if (!Array.isArray(page.data)) throw new GitHubGarbageError(what);
    rows = [...rows, ...page.data];
    skipped = (Number(last[1]) - 2) * 100;
  }
  return { rows: rows.filter(isObject), skipped };
}

/** The start of a thread says what it is about, the end where it stands. */
async function firstAndLastPage(fetchPage: ListPage): Promise<{ comments: ThreadComment[]; skipped: number }> {
  const { rows, skipped } = await firstAndLastRows(fetchPage, "list comments");
  return { comments: rows.map(toThreadComment).filter((c): c is ThreadComment => c !== undefined), skipped };
}

export function listIssueComments(github: GitHub, thread: Thread) {
  return firstAndLastPage((page) =>
    github.request("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      owner: thread.owner,
      repo: thread.repo,
      issue_number: thread.number,
      per_page: 100,
      ...(page ? { page } : {}),
    }),
  );
}

export function listReviewComments(github: GitHub, thread: Thread) {
  return firstAndLastPage((page) =>
    github.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/comments", {
      owner: thread.owner,
      repo: thread.repo,
      pull_number: thread.number,
      per_page: 100,
      ...(page ? { page } : {}),
    }),
  );
}

/** One page (a hundred) of a pull request's changed files, with each one's `patch` when GitHub gives one. */
export async function changedFilesPage(
  github: GitHub,
  thread: Thread,
  page = 1,
): Promise<{ filename: string; patch?: string }[]> {
  const { data } = await github.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
    owner: thread.owner,
    repo: thread.repo,
    pull_number: thread.number,
    per_page: 100,
    ...(page > 1 ? { page } : {}),
  });
  if (!Array.isArray(data)) throw new GitHubGarbageError("list pull request files");
  return data
    .filter(isObject)
    .filter((file) => typeof file.filename === "string")
    .map((file) => ({
      filename: String(file.filename),
      ...(typeof file.patch === "string" ? { patch: file.patch } : {}),
    }));
}

/** The first hundred changed files of a pull request. */
export async function pullRequestFiles(github: GitHub, thread: Thread): Promise<string[]> {
  return (await changedFilesPage(github, thread)).map((file) => file.filename);
}
