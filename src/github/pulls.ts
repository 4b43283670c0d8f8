import { httpStatus } from "../http-status";
import { isObject } from "../is-object";
import type { GitHub } from "./client";
import { GitHubGarbageError } from "./errors";
import type { PullRequestSummary } from "./pull-request";
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

/**
 * The pull request, or null when GitHub has none by that number that this
 * installation may read (an issue number, another account's repository).
 */
export async function readPullRequest(github: GitHub, thread: Thread): Promise<PullRequestSummary | null> {
  let data: unknown;
  try {
    ({ data } = await github.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: thread.owner,
      repo: thread.repo,
      pull_number: thread.number,
    }));
  } catch (error) {
    if ([403, 404, 410].includes(httpStatus(error) ?? 0)) return null;
    throw error;
  }
  if (!isObject(data) || typeof data.number !== "number" || typeof data.html_url !== "string") {
    throw new GitHubGarbageError("get pull request");
  }
  const base = isObject(data.base) && isObject(data.base.repo) ? data.base.repo.full_name : undefined;
  return {
    repository: typeof base === "string" ? base : `${thread.owner}/${thread.repo}`,
    number: data.number,
    title: typeof data.title === "string" ? data.title : "",
    url: data.html_url,
    draft: data.draft === true,
    merged: data.merged === true || typeof data.merged_at === "string",
    state: typeof data.state === "string" ? data.state : "open",
    createdAt: typeof data.created_at === "string" ? data.created_at : "",
    headRef: isObject(data.head) && typeof data.head.ref === "string" ? data.head.ref : "",
  };
}
