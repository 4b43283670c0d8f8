import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import type { Config } from "../config";
import { LearntFact } from "../learnt-fact";
import { GitHubGarbageError, isObject } from "./errors";

/**
 * Which GitHub accounts this deployment serves. `ALLOWED_OWNERS` when set;
 * otherwise only the account that owns the App: anyone able to install the
 * App elsewhere would otherwise run agents on the operator's OpenHands credits
 * and GitHub account. The owner is read from `GET /app` with the App's JWT.
 */
const appOwner = new LearntFact("app:owner");

/** Test hook: a cold isolate. */
export function forgetAppOwner(): void {
  appOwner.forget();
}

/** Lower-case logins served, or undefined while the App's owner is not known yet (no GitHub call here). */
export async function servedOwners(config: Pick<Config, "allowedOwners">, kv: KVNamespace): Promise<string[] | undefined> {
  if (config.allowedOwners) return config.allowedOwners;
  const owner = await appOwner.known(kv);
  return owner ? [owner.toLowerCase()] : undefined;
}

export function isServed(served: readonly string[], login: string): boolean {
  return served.includes(login.toLowerCase());
}

/** The served accounts, asking GitHub for the App's owner when it is not known or is a day old. */
export async function learnServedOwners(
  config: Pick<Config, "allowedOwners" | "appId" | "privateKey" | "githubApiUrl" | "upstreamTimeoutMs">,
  kv: KVNamespace,
  fetch: typeof globalThis.fetch,
): Promise<string[]> {
  if (config.allowedOwners) return config.allowedOwners;
  const owner = await appOwner.learn(kv, async () => {
    const github = new Octokit({
      baseUrl: config.githubApiUrl,
      userAgent: "openhands-github-app",
      authStrategy: createAppAuth,
      auth: { appId: config.appId, privateKey: config.privateKey },
      request: { fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, signal: AbortSignal.timeout(config.upstreamTimeoutMs) }) },
    });
    const { data } = await github.request("GET /app");
    // The owner is a user or an organisation; an enterprise-owned App has no login to serve.
    const owner: unknown = isObject(data) ? data.owner : undefined;
    const login = isObject(owner) ? owner.login : undefined;
    if (typeof login !== "string" || !login) throw new GitHubGarbageError("read the App");
    return login;
  });
  return [owner.toLowerCase()];
}
