import type { Config } from "../config";
import { isObject } from "../is-object";
import { LearntFact } from "../learnt-fact";
import { deploymentWords, type TriggerWords } from "../trigger/words";
import { type AppAuthConfig, appClient } from "./client";
import { GitHubGarbageError } from "./errors";

/**
 * Which GitHub accounts this deployment serves: `ALLOWED_OWNERS` when set;
 * otherwise only the account that owns the App, since anyone able to install
 * the App elsewhere would otherwise run agents on the operator's OpenHands
 * credits and GitHub account. `GET /app` (with the App's JWT) tells the owner,
 * and the slug that names the App's bot (`<slug>[bot]`), which is how the App
 * recognises its own comments where GitHub does not say which App wrote them.
 */
export interface AppIdentity {
  owner: string;
  slug: string;
}

const identity = new LearntFact("app:identity");

/** Test hook: a cold isolate. */
export function forgetAppIdentity(): void {
  identity.forget();
}

/** Lower-case logins served, or undefined while the App's owner is not known yet (no GitHub call here). */
export async function servedOwners(
  config: Pick<Config, "allowedOwners">,
  kv: KVNamespace,
): Promise<string[] | undefined> {
  if (config.allowedOwners) return config.allowedOwners;
  const known = await identity.known(kv);
  return known ? [parse(known).owner.toLowerCase()] : undefined;
}

export function isServed(served: readonly string[], login: string): boolean {
  return served.includes(login.toLowerCase());
}

/** The served accounts, asking GitHub for the App's owner when it is not known or is a day old. */
export async function learnServedOwners(
  config: AppAuthConfig & Pick<Config, "allowedOwners">,
  kv: KVNamespace,
  fetch: typeof globalThis.fetch,
): Promise<string[]> {
  return config.allowedOwners ?? [(await learnAppIdentity(config, kv, fetch)).owner.toLowerCase()];
}

export async function learnAppIdentity(
  config: AppAuthConfig,
  kv: KVNamespace,
  fetch: typeof globalThis.fetch,
): Promise<AppIdentity> {
  const value = await identity.learn(kv, async () => {
    const { data } = await appClient(config, fetch).request("GET /app");
    // The owner is a user or an organisation; an enterprise-owned App has no login to serve.
    const owner: unknown = isObject(data) ? data.owner : undefined;
    const login = isObject(owner) ? owner.login : undefined;
    const slug = isObject(data) ? data.slug : undefined;
    if (typeof login !== "string" || !login || typeof slug !== "string" || !slug)
      throw new GitHubGarbageError("read the App");
    return JSON.stringify({ owner: login, slug } satisfies AppIdentity);
  });
  return parse(value);
}

/** The deployment's mention and label when known without GitHub: `MENTION` and `LABEL`, else the slug learnt. */
export async function knownTriggerWords(
  config: Pick<Config, "mention" | "label">,
  kv: KVNamespace,
): Promise<TriggerWords | undefined> {
  const explicit = deploymentWords(config, undefined);
  if (explicit) return explicit;
  const known = await identity.known(kv);
  return deploymentWords(config, known ? parse(known).slug : undefined);
}

/** The deployment's mention and label, asking GitHub for the App's slug when a word needs it and it is not known. */
export async function learnTriggerWords(
  config: AppAuthConfig & Pick<Config, "mention" | "label">,
  kv: KVNamespace,
  fetch: typeof globalThis.fetch,
): Promise<TriggerWords> {
  const explicit = deploymentWords(config, undefined);
  if (explicit) return explicit;
  const { slug } = await learnAppIdentity(config, kv, fetch);
  return deploymentWords(config, slug)!;
}

/** What the manifest conversion already told: no need to ask GET /app. */
export async function rememberAppIdentity(kv: KVNamespace, app: AppIdentity): Promise<void> {
  await identity.set(kv, JSON.stringify(app));
}

function parse(value: string): AppIdentity {
  return JSON.parse(value) as AppIdentity;
}
