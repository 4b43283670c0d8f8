import type { GitHub } from "../github/client";
import { GitHubGarbageError } from "../github/errors";
import { httpStatus } from "../http-status";
import { isObject } from "../is-object";
import { DEFAULT_REPO_CONFIG, type ParsedRepoConfig, parseRepoConfig } from "./parse";

const CONFIG_PATH = ".github/openhands.yml";
/**
 * Kept in KV for a week and rewritten only when the file changed: on the Free
 * plan's 1,000 writes a day, a cache that expired every few minutes cost a
 * write (and a received record) for most requests. Freshness is this
 * isolate's business: it checks GitHub again after RECHECK_AFTER_MS, in
 * `waitUntil`, and a change is applied to the event that noticed it.
 */
const CACHE_TTL_SECONDS = 7 * 24 * 3600;
const RECHECK_AFTER_MS = 10 * 60_000;
const memory = new Map<string, { checkedAt: number; value: ParsedRepoConfig }>();

/** Test hook: a cold isolate. */
export function clearRepoConfigMemory(): void {
  memory.clear();
}

/**
 * `v2`: since the mention and the label default to the deployment's, a parsed
 * config holds only what the file says. Entries written before held the old
 * defaults as if the file had set them; they expire unread.
 */
function cacheKey(owner: string, repo: string): string {
  // v3: entries carry `reviewLabel`; older ones would be read without it.
  return `repo-config:v3:${owner.toLowerCase()}/${repo.toLowerCase()}`;
}

export interface CachedRepoConfig {
  value: ParsedRepoConfig;
  /** Whether this isolate checked GitHub for it within RECHECK_AFTER_MS. */
  fresh: boolean;
}

/**
 * The repository's config when this isolate or KV already knows it: no GitHub
 * call, so the webhook can use it before answering. Undefined on a miss.
 */
export async function cachedRepoConfig(
  kv: KVNamespace,
  owner: string,
  repo: string,
): Promise<CachedRepoConfig | undefined> {
  const key = cacheKey(owner, repo);
  const remembered = memory.get(key);
  if (remembered) return { value: remembered.value, fresh: Date.now() - remembered.checkedAt < RECHECK_AFTER_MS };
  // The cache is an optimisation: a KV hiccup only means asking GitHub.
  const value = await kv.get<ParsedRepoConfig>(key, "json").catch(() => null);
  if (!value) return undefined;
  memory.set(key, { checkedAt: 0, value });
  return { value, fresh: false };
}

/**
 * The repository's `.github/openhands.yml`, else the organisation's (in its
 * `.github` repository), else the defaults — as Probot's `context.config` does.
 * From this isolate's memory when checked recently, else read from GitHub and
 * written to KV only when it differs from what KV holds. GitHub trouble is
 * thrown: the caller decides whether to wait or fall back.
 */
export async function loadRepoConfig(
  github: () => GitHub,
  kv: KVNamespace,
  owner: string,
  repo: string,
): Promise<ParsedRepoConfig> {
  const cached = await cachedRepoConfig(kv, owner, repo);
  if (cached?.fresh) return cached.value;
  return (await recheckRepoConfig(github, kv, owner, repo, cached?.value)).value;
}

/** Reads the config from GitHub; `changed` when it differs from `known` (what the caller decided with). */
export async function recheckRepoConfig(
  github: () => GitHub,
  kv: KVNamespace,
  owner: string,
  repo: string,
  known: ParsedRepoConfig | undefined,
): Promise<{ value: ParsedRepoConfig; changed: boolean }> {
  const text =
    (await readFile(github(), owner, repo)) ??
    (repo === ".github" ? undefined : await readFile(github(), owner, ".github"));
  const value = text === undefined ? { config: DEFAULT_REPO_CONFIG } : parseRepoConfig(text);
  const changed = known === undefined || JSON.stringify(known) !== JSON.stringify(value);
  if (changed)
    await kv
      .put(cacheKey(owner, repo), JSON.stringify(value), { expirationTtl: CACHE_TTL_SECONDS })
      .catch(() => undefined);
  memory.set(cacheKey(owner, repo), { checkedAt: Date.now(), value });
  return { value, changed };
}

async function readFile(github: GitHub, owner: string, repo: string): Promise<string | undefined> {
  try {
    const { data } = await github.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner,
      repo,
      path: CONFIG_PATH,
    });
    if (!isObject(data) || data.type !== "file" || typeof data.content !== "string")
      throw new GitHubGarbageError("read config file");
    const bytes = Uint8Array.from(atob(data.content.replace(/\s/g, "")), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch (error) {
    if (httpStatus(error) === 404) return undefined;
    throw error;
  }
}
