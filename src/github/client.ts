import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { retry } from "@octokit/plugin-retry";
import { type Config, SERVICE } from "../config";

/**
 * No Octokit throttling plugin: its Bottleneck queues live in module scope, and
 * on Workers a request that waits on a timer or promise created by another
 * request is cancelled as hung. GitHub's rate limits (429/403 with Retry-After or
 * X-RateLimit-Reset) are handed to the task's own backoff instead (see
 * `rate-limit.ts`), as OpenHands' are. plugin-retry builds its limiter per call,
 * so nothing it schedules outlives the request that made it.
 */
const AppOctokit = Octokit.plugin(paginateRest, retry);
export type GitHub = InstanceType<typeof AppOctokit>;

const USER_AGENT = SERVICE;
// Octokit's defaults, plus 429: a rate limit is waited out by the task's backoff, not in this request.
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

/**
 * Installation tokens live an hour. They are cached in isolate memory only,
 * never in KV, and dropped five minutes before they expire. The cache holds
 * plain strings, never a pending request, so overlapping requests share no
 * async state: two cold requests may each fetch a token, which GitHub allows.
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

/**
 * A 2xx whose JSON does not parse is turned into a 502 before Octokit sees it.
 * Octokit would hand the raw text on as data; for the token exchange, auth-app
 * would then send "token undefined" and wait out GitHub's token replication
 * delay on every 401 (1 + 2 + 3 + 4 s) before giving up.
 */
async function rejectUnreadable(response: Response): Promise<Response> {
  if (!response.ok || !/\bjson\b/i.test(response.headers.get("content-type") ?? "")) return response;
  const text = await response.text();
  try {
    if (text) JSON.parse(text);
    return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
  } catch {
    return new Response(JSON.stringify({ message: "GitHub sent an unreadable answer" }), {
      status: 502,
      headers: { "content-type": "application/json" },
    });
  }
}

export type AppAuthConfig = Pick<Config, "appId" | "privateKey" | "githubApiUrl" | "upstreamTimeoutMs">;

/** A hung GitHub must not hold a cron tick (Octokit has no timeout of its own), nor an unreadable answer pass as data. */
function guardedFetch(
  config: Pick<Config, "upstreamTimeoutMs">,
  fetch: typeof globalThis.fetch,
): typeof globalThis.fetch {
  return async (input, init) =>
    rejectUnreadable(
      await fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(config.upstreamTimeoutMs) }),
    );
}

/** Unauthenticated, for the one route whose credential is in its path: the App manifest's conversion. */
export function anonymousClient(
  config: Pick<Config, "githubApiUrl" | "upstreamTimeoutMs">,
  fetch: typeof globalThis.fetch = (input, init) => globalThis.fetch(input, init),
): Octokit {
  return new Octokit({
    baseUrl: config.githubApiUrl,
    userAgent: USER_AGENT,
    request: { fetch: guardedFetch(config, fetch) },
  });
}

/** Authenticated as the App itself (its JWT), for the App's own routes such as `GET /app`. */
export function appClient(config: AppAuthConfig, fetch: typeof globalThis.fetch): Octokit {
  return new Octokit({
    baseUrl: config.githubApiUrl,
    userAgent: USER_AGENT,
    request: { fetch: guardedFetch(config, fetch) },
    authStrategy: createAppAuth,
    auth: { appId: config.appId, privateKey: config.privateKey },
  });
}

export function installationClient(
  config: Config,
  installationId: number,
  fetch: typeof globalThis.fetch = (input, init) => globalThis.fetch(input, init),
): GitHub {
  return new AppOctokit({
    baseUrl: config.githubApiUrl,
    userAgent: USER_AGENT,
    request: { fetch: guardedFetch(config, fetch) },
    authStrategy: createAppAuth,
    auth: {
      appId: config.appId,
      privateKey: config.privateKey,
      installationId,
      // Cache keys include the installation id, so one cache serves every App setting.
      cache: installationTokenCache,
    },
    // One quick retry smooths a 5xx or network blip; anything longer is the cron's job, with backoff.
    retry: { retries: 1, doNotRetry: DO_NOT_RETRY, retryAfterBaseValue: config.retryDelayMs },
  });
}
