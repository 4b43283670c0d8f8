import { SubrequestBudget } from "./budget";
import type { Config } from "./config";
import { mintAgentToken } from "./github/agent-token";
import { type AppIdentity, learnAppIdentity, learnServedOwners, learnTriggerWords } from "./github/app-identity";
import { type GitHub, installationClient } from "./github/client";
import { redact } from "./log";
import { OpenHandsClient } from "./openhands/client";
import { Pacer } from "./openhands/pace";
import { loadRepoConfig, recheckRepoConfig } from "./repo-config/load";
import type { ParsedRepoConfig } from "./repo-config/parse";
import { TaskStore } from "./tasks/store";
import type { TriggerWords } from "./trigger/words";
import { UsageCounter } from "./usage";

/** The outside world as every step sees it (webhook, start, poll, commands), built once per invocation; below them all. */
export interface Services {
  config: Config;
  /** The namespace (counted by `usage`), for the caches beside the task store. */
  kv: KVNamespace;
  store: TaskStore;
  openhands: OpenHandsClient;
  github: (installationId: number) => GitHub;
  /** For the short-lived links GitHub redirects to (a job's log), without our token; counted as GitHub's. */
  githubContent: typeof fetch;
  /** The accounts served (`ALLOWED_OWNERS`, else the App's owner, asked of GitHub when unknown). */
  servedOwners: () => Promise<string[]>;
  /** The App's owner and slug (GET /app, learnt daily). */
  appIdentity: () => Promise<AppIdentity>;
  /** The deployment's mention and label (`MENTION`, `LABEL`, else from the App's slug, asked of GitHub when unknown). */
  triggerWords: () => Promise<TriggerWords>;
  /** A token for the agent (`GIT_IDENTITY=app`): one repository, an hour, never cached. */
  agentToken: (installationId: number, repo: string) => Promise<string>;
  /** The repository's `.github/openhands.yml` (cached); GitHub trouble is thrown. */
  repoConfig: (owner: string, repo: string, installationId: number) => Promise<ParsedRepoConfig>;
  /** Reads the config from GitHub again; `changed` when it is not `known`. */
  recheckRepoConfig: (
    owner: string,
    repo: string,
    installationId: number,
    known: ParsedRepoConfig,
  ) => Promise<{ value: ParsedRepoConfig; changed: boolean }>;
  budget: SubrequestBudget;
  /** KV operations and upstream requests made through these services, counted as they happen. */
  usage: UsageCounter;
  now: () => Date;
  /** Scrubs the configured secrets (and `extra` ones) and anything shaped like a credential. */
  redact: (text: string, extra?: readonly (string | null | undefined)[]) => string;
}

export function createServices(config: Config, binding: KVNamespace, now: () => Date = () => new Date()): Services {
  const clients = new Map<number, GitHub>();
  const budget = new SubrequestBudget(config.subrequestBudget);
  // Counted here, once, so that no caller can reach KV or an upstream uncounted.
  const usage = new UsageCounter();
  const kv = usage.kv(binding);
  const githubFetch = usage.fetch("githubRequests", budget.fetch);
  const openhandsFetch = usage.fetch("openhandsRequests", budget.fetch);
  // Per invocation, like the budget: a pacer shared across requests would make one wait on another's timer.
  const pacer = new Pacer({
    perSecond: config.openHandsRequestsPerSecond,
    maxWaitMs: 10_000,
    retryForMs: 20_000,
    jitterMs: 2_000,
    mayRetry: () => budget.canAfford(1),
  });
  const github = (installationId: number) => {
    const known = clients.get(installationId);
    if (known) return known;
    const client = installationClient(config, installationId, githubFetch);
    clients.set(installationId, client);
    return client;
  };
  return {
    config,
    kv,
    store: new TaskStore(kv),
    githubContent: githubFetch,
    openhands: new OpenHandsClient({
      baseUrl: config.openHandsBaseUrl,
      apiKey: config.openHandsApiKey,
      timeoutMs: config.upstreamTimeoutMs,
      fetch: openhandsFetch,
      pacer,
    }),
    github,
    servedOwners: () => learnServedOwners(config, kv, githubFetch),
    appIdentity: () => learnAppIdentity(config, kv, githubFetch),
    triggerWords: () => learnTriggerWords(config, kv, githubFetch),
    agentToken: (installationId, repo) => mintAgentToken(config, installationId, repo, githubFetch),
    repoConfig: (owner, repo, installationId) => loadRepoConfig(() => github(installationId), kv, owner, repo),
    recheckRepoConfig: (owner, repo, installationId, known) =>
      recheckRepoConfig(() => github(installationId), kv, owner, repo, known),
    budget,
    usage,
    now,
    redact: (text, extra = []) => redact(text, [...config.secrets, ...extra.filter((s): s is string => Boolean(s))]),
  };
}
