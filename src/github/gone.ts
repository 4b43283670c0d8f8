import { httpStatus } from "../http-status";
import type { GitHub } from "./client";
import { gitHubRetryAt } from "./rate-limit";
import type { Thread } from "./thread";

/**
 * GitHub refused both the edit of the tracking comment (when there was one to edit) and a new
 * comment, each for good (`refusedForGood`: deleted, transferred, locked, archived, the App
 * removed): nobody on the thread can be told anything, now or later. `status` is the new
 * comment's answer, `editStatus` the edit's; `said` tells where GitHub said it, when elsewhere.
 */
export class ThreadGoneError extends Error {
  constructor(
    readonly status: number,
    readonly editStatus?: number,
    said = `${editStatus ? `${editStatus} to the edit, ` : ""}${status} to a new comment`,
  ) {
    super(`the thread takes no comments: GitHub answered ${said}`);
    this.name = "ThreadGoneError";
  }
}

/**
 * GitHub's answers that say a thread will not take the App's comments again, whatever the App
 * waits for: 410 (the issue was deleted), 404 (transferred to, or in, a repository the App cannot
 * see: deleted, or the App removed from it, or uninstalled), 403 (the conversation is locked, the
 * repository archived, or the installation may not write there). A 403 or 429 that is a rate limit
 * says "later", not "never" (`gitHubRetryAt`), and so does every 5xx: those are not this.
 * Returns the status, for the log and the record.
 */
export function refusedForGood(error: unknown): number | undefined {
  const status = httpStatus(error);
  if (status !== 403 && status !== 404 && status !== 410) return undefined;
  return gitHubRetryAt(error, 0) === undefined ? status : undefined;
}

/**
 * Whether the issue or pull request itself is gone, when one of the App's comments on it is
 * (a comment read answered 404): `GET /repos/{owner}/{repo}/issues/{number}` answers 410 for an
 * issue deleted from a repository the App can read, 404 when the App cannot see it any more,
 * and the issue when only the comment was deleted. Returns the status that said it is gone.
 */
export async function threadGoneStatus(github: GitHub, thread: Thread): Promise<number | undefined> {
  try {
    await github.request("GET /repos/{owner}/{repo}/issues/{issue_number}", {
      owner: thread.owner,
      repo: thread.repo,
      issue_number: thread.number,
    });
    return undefined;
  } catch (error) {
    const status = refusedForGood(error);
    // A 403 here is not "gone": reading is what a locked issue or an archived repository still allows.
    if (status === 404 || status === 410) return status;
    throw error;
  }
}
