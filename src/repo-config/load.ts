import type { GitHub } from "../github/client";
import { GitHubGarbageError, isObject } from "../github/errors";
import { log } from "../log";
import { DEFAULT_REPO_CONFIG, type ParsedRepoConfig, parseRepoConfig } from "./parse";

export const CONFIG_PATH = ".github/openhands.yml";
const CACHE_TTL_SECONDS = 600;
const memory = new Map<string, { until: number; value: ParsedRepoConfig }>();

/** Test hook: a cold isolate. */
export function clearRepoConfigMemory(): void {
  memory.clear();
}

/**
 * The repository's `.github/openhands.yml`, else the organisation's (in its
 * `.github` repository), else the defaults — as Probot's `context.config` does.
 * Cached in isolate memory and in KV for ten minutes, so a busy repository
 * costs one fetch and one KV write per ten minutes, not one per event.
 */
export async function loadRepoConfig(github: () => GitHub, kv: KVNamespace, owner: string, repo: string): Promise<ParsedRepoConfig> {
  const key = `repo-config:${owner.toLowerCase()}/${repo.toLowerCase()}`;
  const now = Date.now();
  const remembered = memory.get(key);
  if (remembered && remembered.until > now) return remembered.value;
  // The cache is an optimisation: a KV hiccup (or an exhausted write quota) must not fail the webhook.
  let value = await kv.get<ParsedRepoConfig>(key, "json").catch(() => null);
  if (!value) {
    try {
      const text = (await readFile(github(), owner, repo)) ?? (repo === ".github" ? undefined : await readFile(github(), owner, ".github"));
      value = text === undefined ? { config: DEFAULT_REPO_CONFIG } : parseRepoConfig(text);
    } catch (error) {
      // GitHub trouble must not hold a request back: defaults now, the file next time.
      log("warn", "repo_config.unavailable", { repository: `${owner}/${repo}`, status: (error as { status?: number }).status });
      return { config: DEFAULT_REPO_CONFIG };
    }
    await kv.put(key, JSON.stringify(value), { expirationTtl: CACHE_TTL_SECONDS }).catch(() => undefined);
  }
  memory.set(key, { until: now + 60_000, value });
  return value;
}

async function readFile(github: GitHub, owner: string, repo: string): Promise<string | undefined> {
  try {
    const { data } = await github.request("GET /repos/{owner}/{repo}/contents/{path}", { owner, repo, path: CONFIG_PATH });
    if (!isObject(data) || data.type !== "file" || typeof data.content !== "string") throw new GitHubGarbageError("read config file");
    const bytes = Uint8Array.from(atob(data.content.replace(/\s/g, "")), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
}
