import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import type { Config } from "../config";
import { log } from "../log";

/**
 * Retries 5xx and network errors, and waits out primary and secondary rate
 * limits as GitHub asks (Retry-After / X-RateLimit-Reset), instead of ad-hoc loops.
 */
const AppOctokit = Octokit.plugin(paginateRest, retry, throttling);
export type GitHub = InstanceType<typeof AppOctokit>;

const USER_AGENT = "openhands-github-app";
// A Worker's waitUntil budget is short; waiting longer than this is the cron's job.
const MAX_RATE_LIMIT_WAIT_SECONDS = 20;

/**
 * Installation tokens live an hour. They are cached in isolate memory only,
 * never in KV, and dropped five minutes before they expire.
 */
const tokenCache = new Map<string, string>();
const TOKEN_SAFETY_MS = 5 * 60_000;
const installationTokenCache = {
  get(key: string): string | undefined {
    const value = tokenCache.get(key);
    if (!value) return undefined;
    const expiresAt = Date.parse(value.split("|")[2] ?? "");
    if (!(expiresAt - TOKEN_SAFETY_MS > Date.now())) {
      tokenCache.delete(key);
      return undefined;
    }
    return value;
  },
  set(key: string, value: string): void {
    tokenCache.set(key, value);
  },
};

/** Test hook: each test starts from a cold isolate's point of view. */
export function clearInstallationTokenCache(): void {
  tokenCache.clear();
}

export function installationClient(
  config: Config,
  installationId: number,
  fetch: typeof globalThis.fetch = (input, init) => globalThis.fetch(input, init),
): GitHub {
  // A hung GitHub must not hold a cron tick; Octokit has no timeout of its own.
  const fetchWithTimeout: typeof globalThis.fetch = (input, init) =>
    fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(config.upstreamTimeoutMs) });
  return new AppOctokit({
    baseUrl: config.githubApiUrl,
    userAgent: USER_AGENT,
    request: { fetch: fetchWithTimeout },
    authStrategy: createAppAuth,
    auth: {
      appId: config.appId,
      privateKey: config.privateKey,
      installationId,
      // Cache keys include the installation id, so one cache serves every App setting.
      cache: installationTokenCache,
    },
    // One quick retry smooths a blip; anything longer is the cron's job, with backoff.
    retry: { retries: 1 },
    throttle: {
      // GitHub's secondary limits apply per token: one installation's writes need not wait for another's.
      id: `installation-${installationId}`,
      onRateLimit: (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
        log("warn", "github.rate_limited", { method: options.method, url: options.url, retryAfter });
        return retryCount < 1 && retryAfter <= MAX_RATE_LIMIT_WAIT_SECONDS;
      },
      onSecondaryRateLimit: (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
        log("warn", "github.secondary_rate_limited", { method: options.method, url: options.url, retryAfter });
        return retryCount < 1 && retryAfter <= MAX_RATE_LIMIT_WAIT_SECONDS;
      },
    },
  });
}
