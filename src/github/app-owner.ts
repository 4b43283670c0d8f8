import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import type { Config } from "../config";
import { GitHubGarbageError, isObject } from "./errors";

/**
 * Which GitHub accounts this deployment serves. `ALLOWED_OWNERS` when set;
 * otherwise only the account that owns the App: anyone able to install the
 * App elsewhere would otherwise run agents on the operator's OpenHands credits
 * and GitHub account. The owner is read once from `GET /app` (App JWT), kept in
 * KV and in isolate memory as a plain value.
 */
const OWNER_KEY = "app:owner";
/** The owner is asked again once a day, in case the App was transferred. */
export const OWNER_REFRESH_MS = 24 * 3600_000;
const MEMORY_MS = 10 * 60_000;

interface StoredOwner {
  login: string;
  at: number;
}

let remembered: { owner: StoredOwner; until: number } | undefined;

/** Test hook: a cold isolate. */
export function forgetAppOwner(): void {
  remembered = undefined;
}

/** Lower-case logins served, or undefined while the App's owner is not known yet (no GitHub call here). */
export async function servedOwners(config: Pick<Config, "allowedOwners">, kv: KVNamespace): Promise<string[] | undefined> {
  if (config.allowedOwners) return config.allowedOwners;
  const owner = await storedOwner(kv);
  return owner ? [owner.login.toLowerCase()] : undefined;
}

export function isServed(served: readonly string[], login: string): boolean {
  return served.includes(login.toLowerCase());
}

/** The served accounts, asking GitHub for the App's owner when it is not known or is a day old. */
export async function learnServedOwners(
  config: Pick<Config, "allowedOwners" | "appId" | "privateKey" | "githubApiUrl" | "upstreamTimeoutMs">,
  kv: KVNamespace,
  fetch: typeof globalThis.fetch,
  now = Date.now(),
): Promise<string[]> {
  if (config.allowedOwners) return config.allowedOwners;
  const known = await storedOwner(kv);
  if (known && now - known.at < OWNER_REFRESH_MS) return [known.login.toLowerCase()];
  const github = new Octokit({
    baseUrl: config.githubApiUrl,
    userAgent: "openhands-github-app",
    authStrategy: createAppAuth,
    auth: { appId: config.appId, privateKey: config.privateKey },
    request: { fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, signal: AbortSignal.timeout(config.upstreamTimeoutMs) }) },
  });
  const { data } = await github.request("GET /app");
  // The owner is a user or an organisation; an enterprise-owned App has no login to serve.
  const appOwner: unknown = isObject(data) ? data.owner : undefined;
  const login = isObject(appOwner) ? appOwner.login : undefined;
  if (typeof login !== "string" || !login) throw new GitHubGarbageError("read the App");
  const owner = { login, at: now };
  await kv.put(OWNER_KEY, JSON.stringify(owner));
  remembered = { owner, until: Date.now() + MEMORY_MS };
  return [login.toLowerCase()];
}

async function storedOwner(kv: KVNamespace): Promise<StoredOwner | undefined> {
  if (remembered && remembered.until > Date.now()) return remembered.owner;
  const owner = await kv.get<StoredOwner>(OWNER_KEY, "json").catch(() => null);
  if (!owner) return undefined;
  remembered = { owner, until: Date.now() + MEMORY_MS };
  return owner;
}
