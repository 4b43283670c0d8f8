import type { GitHub } from "../github/client";
import { GitHubGarbageError, isObject } from "../github/errors";
import { DEFAULT_REPO_CONFIG, type ParsedRepoConfig, parseRepoConfig } from "./parse";

export const CONFIG_PATH = ".github/openhands.yml";
const CACHE_TTL_SECONDS = 600;
const MEMORY_TTL_MS = 60_000;
const memory = new Map<string, { until: number; value: ParsedRepoConfig }>();

/** Test hook: a cold isolate. */
export function clearRepoConfigMemory(): void {
  memory.clear();
}

function cacheKey(owner: string, repo: string): string {
  return `repo-config:${owner.toLowerCase()}/${repo.toLowerCase()}`;
}

/**
 * The repository's config when this isolate or KV already knows it: no GitHub
 * call, so the webhook can use it before answering. Undefined on a miss.
 */
export async function cachedRepoConfig(kv: KVNamespace, owner: string, repo: string): Promise<ParsedRepoConfig | undefined> {
  const key = cacheKey(owner, repo);
  const now = Date.now();
  const remembered = memory.get(key);
  if (remembered && remembered.until > now) return remembered.value;
  // The cache is an optimisation: a KV hiccup only means asking GitHub.
  const value = await kv.get<ParsedRepoConfig>(key, "json").catch(() => null);
  if (!value) return undefined;
  memory.set(key, { until: now + MEMORY_TTL_MS, value });
  return value;
}

/**
 * The repository's `.github/openhands.yml`, else the organisation's (in its
 * `.github` repository), else the defaults — as Probot's `context.config` does.
 * Cached in isolate memory and in KV for ten minutes, so a busy repository
 * costs one fetch and one KV write per ten minutes, not one per event.
 * GitHub trouble is thrown: the caller decides whether to wait or fall back.
 */
export async function loadRepoConfig(github: () => GitHub, kv: KVNamespace, owner: string, repo: string): Promise<ParsedRepoConfig> {
  const cached = await cachedRepoConfig(kv, owner, repo);
  if (cached) return cached;
  const text = (await readFile(github(), owner, repo)) ?? (repo === ".github" ? undefined : await readFile(github(), owner, ".github"));
  const value = text === undefined ? { config: DEFAULT_REPO_CONFIG } : parseRepoConfig(text);
  await kv.put(cacheKey(owner, repo), JSON.stringify(value), { expirationTtl: CACHE_TTL_SECONDS }).catch(() => undefined);
  memory.set(cacheKey(owner, repo), { until: Date.now() + MEMORY_TTL_MS, value });
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
