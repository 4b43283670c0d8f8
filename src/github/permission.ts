import { httpStatus } from "../http-status";
import { isObject } from "../is-object";
import type { GitHub } from "./client";
import { GitHubGarbageError } from "./errors";

const WRITE_ROLES = ["admin", "maintain", "write"] as const;

/**
 * "Not allowed" verdicts, kept in isolate memory (never KV: an outsider must not
 * cost writes) so that someone mentioning the App again and again is turned away
 * before anything is recorded or asked of GitHub. Plain values, no pending calls.
 */
const DENIED_FOR_MS = 10 * 60_000;
const denied = new Map<string, number>();

function deniedKey(owner: string, repo: string, username: string): string {
  return `${owner}/${repo}:${username}`.toLowerCase();
}

/** Test hook: a cold isolate. */
export function forgetDenied(): void {
  denied.clear();
}

/** Whether GitHub said, a few minutes ago, that this person may not write here. */
export function isKnownDenied(owner: string, repo: string, username: string, now = Date.now()): boolean {
  const until = denied.get(deniedKey(owner, repo, username));
  return until !== undefined && until > now;
}

/**
 * `permission` collapses maintain into write and triage into read, so the finer
 * `role_name` is preferred when present.
 */
export async function hasWriteAccess(github: GitHub, owner: string, repo: string, username: string): Promise<boolean> {
  if (isKnownDenied(owner, repo, username)) return false;
  const allowed = await askWriteAccess(github, owner, repo, username);
  if (allowed) denied.delete(deniedKey(owner, repo, username));
  else denied.set(deniedKey(owner, repo, username), Date.now() + DENIED_FOR_MS);
  return allowed;
}

async function askWriteAccess(github: GitHub, owner: string, repo: string, username: string): Promise<boolean> {
  try {
    const { data } = await github.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", {
      owner,
      repo,
      username,
    });
    if (!isObject(data) || typeof data.permission !== "string") throw new GitHubGarbageError("permission check");
    const role = (data as { role_name?: string }).role_name ?? data.permission;
    return (
      (WRITE_ROLES as readonly string[]).includes(role) || data.permission === "admin" || data.permission === "write"
    );
  } catch (error) {
    // GitHub answers 404 for someone who is not a collaborator at all.
    if (httpStatus(error) === 404) return false;
    throw error;
  }
}
