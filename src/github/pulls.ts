import { httpStatus } from "../http-status";
import { isObject } from "../is-object";
import type { GitHub } from "./client";
import { GitHubGarbageError } from "./errors";
import { refusedForGood } from "./gone";
import type { PullRequestOrigin, PullRequestSummary } from "./pull-request";
import type { Thread } from "./thread";

export interface PullRequestHead {
  ref: string;
  /** The head commit: a different one later means someone (the agent) pushed. */
  sha: string;
  /** `owner/repo` the branch lives in; differs from the base repository for forks. */
  repository: string | undefined;
  baseRef: string;
  changedFiles: number;
}

export async function pullRequestHead(github: GitHub, thread: Thread): Promise<PullRequestHead> {
  const { data } = await github.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
    owner: thread.owner,
    repo: thread.repo,
    pull_number: thread.number,
  });
  if (!isObject(data) || !isObject(data.head) || typeof data.head.ref !== "string")
    throw new GitHubGarbageError("get pull request");
  return {
    ref: data.head.ref,
    sha: typeof data.head.sha === "string" ? data.head.sha : "",
    repository: data.head.repo?.full_name,
    baseRef: isObject(data.base) && typeof data.base.ref === "string" ? data.base.ref : "",
    changedFiles: typeof data.changed_files === "number" ? data.changed_files : 0,
  };
}

async function getPullRequest(github: GitHub, thread: Thread) {
  const { data } = await github.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
    owner: thread.owner,
    repo: thread.repo,
    pull_number: thread.number,
  });
  return data;
}

/** GitHub's pull request (the REST schema `pull-request`), as Octokit types it. */
type PullRequestData = Awaited<ReturnType<typeof getPullRequest>>;

/** What GitHub answered, before any field is trusted: a 2xx body may be anything (see client.ts). */
type Unchecked<T> = { [K in keyof T]?: unknown };

export interface PullRequestRead {
  summary: PullRequestSummary;
  origin: PullRequestOrigin;
}

/**
 * The pull request, or null when GitHub has none by that number that this
 * installation may read (an issue number, another account's repository).
 */
export async function readPullRequest(github: GitHub, thread: Thread): Promise<PullRequestRead | null> {
  let data: Unchecked<PullRequestData>;
  try {
    data = (await getPullRequest(github, thread)) as Unchecked<PullRequestData>;
  } catch (error) {
    // A rate limit says "later": the report is tried again rather than posted without this pull request.
    if (refusedForGood(error) !== undefined) return null;
    throw error;
  }
  if (!isObject(data) || typeof data.number !== "number" || typeof data.html_url !== "string") {
    throw new GitHubGarbageError("get pull request");
  }
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  const head = (isObject(data.head) ? data.head : {}) as Unchecked<PullRequestData["head"]>;
  const base = (isObject(data.base) ? data.base : {}) as Unchecked<PullRequestData["base"]>;
  const fullName = (repo: unknown) => (isObject(repo) && typeof repo.full_name === "string" ? repo.full_name : null);
  const baseRepository = fullName(base.repo) ?? `${thread.owner}/${thread.repo}`;
  const createdAt = text(data.created_at);
  return {
    summary: {
      repository: baseRepository,
      number: data.number,
      title: text(data.title),
      url: data.html_url,
      draft: data.draft === true,
      merged: data.merged === true || typeof data.merged_at === "string",
      state: text(data.state) || "open",
      createdAt,
      headRef: text(head.ref),
    },
    origin: {
      baseRepository,
      // GitHub sends `head.repo: null` once the fork is deleted, whatever the schema says.
      headRepository: fullName(head.repo),
      headRef: text(head.ref),
      headSha: text(head.sha),
      author: isObject(data.user) ? text(data.user.login) : "",
      createdAt,
      updatedAt: text(data.updated_at),
    },
  };
}

/**
 * When a commit was committed (the committer's date, set where it was made),
 * or undefined when GitHub does not have it. The git database's commit, not
 * the commits API's, which also sends the whole diff.
 */
export async function committedAt(
  github: GitHub,
  repository: { owner: string; repo: string },
  sha: string,
): Promise<string | undefined> {
  let data: Unchecked<Awaited<ReturnType<typeof getCommit>>>;
  try {
    data = (await getCommit(github, repository, sha)) as typeof data;
  } catch (error) {
    // No such commit here (409 an empty repository, 422 not a commit), or not ours to read; a rate limit is "later".
    if ([409, 422].includes(httpStatus(error) ?? 0) || refusedForGood(error) !== undefined) return undefined;
    throw error;
  }
  if (!isObject(data)) throw new GitHubGarbageError("get commit");
  return isObject(data.committer) && typeof data.committer.date === "string" ? data.committer.date : undefined;
}

async function getCommit(github: GitHub, repository: { owner: string; repo: string }, sha: string) {
  const { data } = await github.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
    ...repository,
    commit_sha: sha,
  });
  return data;
}
