import type { GitHub } from "../github/client";
import { GitHubGarbageError, isObject } from "../github/errors";

export const WRITE_ROLES = ["admin", "maintain", "write"] as const;

/**
 * `permission` collapses maintain into write and triage into read, so the finer
 * `role_name` is preferred when present.
 */
export async function hasWriteAccess(github: GitHub, owner: string, repo: string, username: string): Promise<boolean> {
  try {
    const { data } = await github.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", {
      owner,
      repo,
      username,
    });
    if (!isObject(data) || typeof data.permission !== "string") throw new GitHubGarbageError("permission check");
    const role = (data as { role_name?: string }).role_name ?? data.permission;
    return (WRITE_ROLES as readonly string[]).includes(role) || data.permission === "admin" || data.permission === "write";
  } catch (error) {
    // GitHub answers 404 for someone who is not a collaborator at all.
    if ((error as { status?: number }).status === 404) return false;
    throw error;
  }
}
