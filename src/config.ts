import { normalizePrivateKey, PrivateKeyError } from "./github/private-key";
import { log } from "./log";
import { type AppCredentials, openCredentials } from "./setup/credentials";
import { isLabelName, isMentionFormat } from "./trigger/words";

/**
 * The bindings as the Worker receives them. `Env` is generated (worker-configuration.d.ts, `npm run types`)
 * from wrangler.toml and the names in .dev.vars.example, and wrangler types each variable and secret as a
 * string that is always there. None is: the operator sets what they need, the rest has a default or is named
 * when missing (ConfigError, `/setup`, `/healthz`). So every string is optional here; bindings (TASKS) stay
 * as generated. The names are a contract with operators (docs/OPERATING.md, "Configuration").
 */
export type WorkerEnv = Omit<Env, Setting> & Partial<Pick<Env, Setting>>;
type Setting = { [Name in keyof Env]: Env[Name] extends string ? Name : never }[keyof Env];

export interface Config {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  openHandsApiKey: string;
  /** What no log line, comment, error or stored value may carry (`boundSecrets`, and the key as converted). */
  secrets: readonly string[];
  openHandsBaseUrl: string;
  githubApiUrl: string;
  /** GitHub's web address (https://github.com, or a GitHub Enterprise Server's), where the agent clones from. */
  githubUrl: string;
  /**
   * Whose GitHub login the agent works with: `openhands`, the OpenHands key owner's through OpenHands'
   * own GitHub App (OpenHands clones), or `app`, a token of this App's for the one repository (the agent
   * clones; start/git-identity.ts).
   */
  gitIdentity: GitIdentity;
  startTimeoutMs: number;
  runTimeoutMs: number;
  startMaxAttempts: number;
  maxRunning: number;
  maxStartsPerThreadPerHour: number;
  maxStartsPerInstallationPerHour: number;
  upstreamTimeoutMs: number;
  /** Outbound requests one invocation may make: 50 on Workers Free, 1,000 on Paid. */
  subrequestBudget: number;
  /** Wait before Octokit's one quick retry of a 5xx or network error; 0 in tests. */
  retryDelayMs: number;
  /** OpenHands requests one invocation sends in any second (openhands/pace.ts). */
  openHandsRequestsPerSecond: number;
  /** Lower-case account logins served; undefined: only the account that owns the App. */
  allowedOwners?: string[];
  /** The GitHub account the agent writes as; undefined: asked of OpenHands. */
  agentLogin?: string;
  /** `MENTION`, when set; undefined: `@<the App's slug>` (trigger/words.ts). */
  mention?: string;
  /** `LABEL`, when set; undefined: the App's slug. */
  label?: string;
}

/** What the Worker calls itself: in `/healthz`, `/status`, and the User-Agent of its GitHub requests. */
export const SERVICE = "openhands-github-app";

export type GitIdentity = "openhands" | "app";
const GIT_IDENTITIES: readonly string[] = ["openhands", "app"] satisfies GitIdentity[];

const DEFAULTS = {
  OPENHANDS_BASE_URL: "https://app.all-hands.dev",
  GITHUB_API_URL: "https://api.github.com",
  GITHUB_URL: "https://github.com",
  START_TIMEOUT_MINUTES: 15,
  RUN_TIMEOUT_MINUTES: 360,
  START_MAX_ATTEMPTS: 8,
  MAX_RUNNING_CONVERSATIONS: 8,
  MAX_STARTS_PER_THREAD_PER_HOUR: 5,
  // Against runaway loops across threads; per-thread loops meet the thread limit first.
  MAX_STARTS_PER_INSTALLATION_PER_HOUR: 100,
  UPSTREAM_TIMEOUT_SECONDS: 15,
  SUBREQUEST_BUDGET: 50,
  GITHUB_RETRY_DELAY_MS: 1000,
  // OpenHands Cloud allows a user 10 a second; the rest is room for the key's other users.
  OPENHANDS_REQUESTS_PER_SECOND: 8,
} as const;

type NumberSetting =
  | "START_TIMEOUT_MINUTES"
  | "RUN_TIMEOUT_MINUTES"
  | "START_MAX_ATTEMPTS"
  | "MAX_RUNNING_CONVERSATIONS"
  | "MAX_STARTS_PER_THREAD_PER_HOUR"
  | "MAX_STARTS_PER_INSTALLATION_PER_HOUR"
  | "UPSTREAM_TIMEOUT_SECONDS"
  | "SUBREQUEST_BUDGET"
  | "OPENHANDS_REQUESTS_PER_SECOND";

/** Anything shorter can be guessed; GitHub itself accepts any length. */
const MIN_SECRET_CHARS = 16;

const REQUIRED = ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET", "OPENHANDS_API_KEY"] as const;

/** Names what is missing or malformed, never the values. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`configuration error: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Settings parsed once per bindings object: workerd hands every request of an
 * isolate the same `env`, so this is once per isolate. Plain values only; an
 * invalid configuration is not remembered, so it is reported every time.
 */
const loaded = new WeakMap<WorkerEnv, Config>();

export function loadConfig(env: WorkerEnv): Config {
  const known = loaded.get(env);
  if (known) return known;
  const config = parseConfig(env);
  loaded.set(env, config);
  return config;
}

/**
 * The settings for a webhook or a cron tick, or undefined when they are incomplete:
 * the operator reads what is missing in the logs (names only, never values), and
 * the caller answers or returns without throwing the same error every time.
 */
export function configOrLog(env: WorkerEnv): Config | undefined {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log("error", "config.invalid", { problems: error.problems });
    return undefined;
  }
}

function parseConfig(env: WorkerEnv): Config {
  const problems: string[] = [];
  for (const name of REQUIRED) {
    if (!env[name]?.trim()) problems.push(`${name} is not set`);
  }
  if (!env.TASKS) problems.push("KV namespace binding TASKS is missing");
  const webhookSecret = env.GITHUB_WEBHOOK_SECRET?.trim() ?? "";
  if (webhookSecret && webhookSecret.length < MIN_SECRET_CHARS) {
    problems.push(
      `GITHUB_WEBHOOK_SECRET must be at least ${MIN_SECRET_CHARS} characters (a random one: openssl rand -hex 32)`,
    );
  }
  const openHandsBaseUrl = url(env, "OPENHANDS_BASE_URL", problems);
  const githubApiUrl = url(env, "GITHUB_API_URL", problems);
  const githubUrl = url(env, "GITHUB_URL", problems);
  const gitIdentity = env.GIT_IDENTITY?.trim().toLowerCase() || "openhands";
  if (!GIT_IDENTITIES.includes(gitIdentity)) problems.push(`GIT_IDENTITY must be one of: ${GIT_IDENTITIES.join(", ")}`);
  const limits = limitsOf(env, problems);
  const privateKey = privateKeyOf(env, problems);
  const words = wordsOf(env, problems);
  const allowedOwners = env.ALLOWED_OWNERS?.split(",")
    .map((login) => login.trim().toLowerCase())
    .filter(Boolean);
  if (problems.length) throw new ConfigError(problems);
  return {
    appId: env.GITHUB_APP_ID!.trim(),
    /** Always PKCS#8 PEM, whatever form the operator pasted. */
    privateKey,
    // A pasted secret often ends in a newline, which would make every signature fail.
    webhookSecret,
    openHandsApiKey: env.OPENHANDS_API_KEY!.trim(),
    secrets: [...boundSecrets(env), privateKey].filter(Boolean),
    openHandsBaseUrl,
    githubApiUrl,
    githubUrl,
    gitIdentity: gitIdentity as GitIdentity,
    ...limits,
    ...words,
    ...(allowedOwners?.length ? { allowedOwners } : {}),
    ...(env.AGENT_GITHUB_LOGIN?.trim() ? { agentLogin: env.AGENT_GITHUB_LOGIN.trim() } : {}),
  };
}

function limitsOf(env: WorkerEnv, problems: string[]) {
  const number = (name: NumberSetting) => positiveNumber(env, name, problems);
  return {
    startTimeoutMs: number("START_TIMEOUT_MINUTES") * 60_000,
    runTimeoutMs: number("RUN_TIMEOUT_MINUTES") * 60_000,
    startMaxAttempts: Math.floor(number("START_MAX_ATTEMPTS")),
    maxRunning: Math.floor(number("MAX_RUNNING_CONVERSATIONS")),
    maxStartsPerThreadPerHour: Math.floor(number("MAX_STARTS_PER_THREAD_PER_HOUR")),
    maxStartsPerInstallationPerHour: Math.floor(number("MAX_STARTS_PER_INSTALLATION_PER_HOUR")),
    upstreamTimeoutMs: number("UPSTREAM_TIMEOUT_SECONDS") * 1000,
    subrequestBudget: Math.floor(number("SUBREQUEST_BUDGET")),
    retryDelayMs: nonNegativeNumber(env, "GITHUB_RETRY_DELAY_MS", problems),
    openHandsRequestsPerSecond: Math.max(1, Math.floor(number("OPENHANDS_REQUESTS_PER_SECOND"))),
  };
}

function privateKeyOf(env: WorkerEnv, problems: string[]): string {
  if (!env.GITHUB_APP_PRIVATE_KEY?.trim()) return "";
  try {
    return normalizePrivateKey(env.GITHUB_APP_PRIVATE_KEY);
  } catch (error) {
    if (!(error instanceof PrivateKeyError)) throw error;
    problems.push(error.message);
    return "";
  }
}

/** The deployment's own mention and label, when set; unset, they come from the App's slug. */
function wordsOf(env: WorkerEnv, problems: string[]): Pick<Config, "mention" | "label"> {
  const mention = env.MENTION?.trim() || undefined;
  if (mention !== undefined && !isMentionFormat(mention)) problems.push("MENTION must look like @name");
  const label = env.LABEL?.trim() || undefined;
  if (label !== undefined && !isLabelName(label)) problems.push("LABEL must be a label name (at most 50 characters)");
  return { ...(mention ? { mention } : {}), ...(label ? { label } : {}) };
}

/** The deployment's secrets as bound, trimmed: what `redact` takes out of anything that leaves the Worker. */
export function boundSecrets(env: WorkerEnv): string[] {
  return [
    env.OPENHANDS_API_KEY,
    env.GITHUB_WEBHOOK_SECRET,
    env.GITHUB_APP_PRIVATE_KEY,
    env.STATUS_TOKEN,
    env.SETUP_TOKEN,
  ]
    .map((secret) => secret?.trim() ?? "")
    .filter(Boolean);
}

type UrlSetting = "OPENHANDS_BASE_URL" | "GITHUB_API_URL" | "GITHUB_URL";

function url(env: WorkerEnv, name: UrlSetting, problems: string[]): string {
  const raw = env[name]?.trim() || DEFAULTS[name];
  if (!isHttpsOrLoopback(raw)) problems.push(`${name} must be an https URL (http only for localhost)`);
  return origin(env, name);
}

// Octokit and our own client join paths onto it, so a trailing slash would double up.
function origin(env: WorkerEnv, name: UrlSetting): string {
  return (env[name]?.trim() || DEFAULTS[name]).replace(/\/+$/, "");
}

/** GitHub's web and API origins as set (or the defaults), unchecked: what `/setup` needs before there is an App. */
export function githubOrigins(env: WorkerEnv): { GITHUB_URL: string; GITHUB_API_URL: string } {
  return { GITHUB_URL: origin(env, "GITHUB_URL"), GITHUB_API_URL: origin(env, "GITHUB_API_URL") };
}

/** The upstream timeout before the settings can be read (`/setup`). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = DEFAULTS.UPSTREAM_TIMEOUT_SECONDS * 1000;

/** Plain http would send the API key, tokens and the App's key in the clear; only a local stand-in may use it. */
export function isHttpsOrLoopback(raw: string): boolean {
  try {
    const parsed = new URL(raw);
    const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(parsed.hostname);
    return parsed.protocol === "https:" || (parsed.protocol === "http:" && loopback);
  } catch {
    return false;
  }
}

function nonNegativeNumber(env: WorkerEnv, name: "GITHUB_RETRY_DELAY_MS", problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return DEFAULTS[name];
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    problems.push(`${name} must be zero or a positive number`);
    return DEFAULTS[name];
  }
  return value;
}

function positiveNumber(env: WorkerEnv, name: NumberSetting, problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return DEFAULTS[name];
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    problems.push(`${name} must be a positive number`);
    return DEFAULTS[name];
  }
  return value;
}

/**
 * The bindings with the App's credentials filled in from what `/setup` stored,
 * when the operator did not set them as secrets (a secret set by hand wins).
 * The opened credentials are kept in isolate memory as plain values.
 */
let opened: { sealedBy: string; credentials: AppCredentials; merged: WeakMap<WorkerEnv, WorkerEnv> } | undefined;

export async function resolveEnv(env: WorkerEnv): Promise<WorkerEnv> {
  if (env.GITHUB_APP_ID?.trim() && env.GITHUB_APP_PRIVATE_KEY?.trim() && env.GITHUB_WEBHOOK_SECRET?.trim()) return env;
  const token = env.SETUP_TOKEN?.trim();
  if (!env.TASKS) return env;
  if (!token || opened?.sealedBy !== token) {
    const found = await openCredentials(env.TASKS, token).catch(() => undefined);
    // Stored but not openable: said on every request (and by /healthz), not left as "GITHUB_APP_ID is not set".
    if (found && "problem" in found) log("error", "setup.credentials_unopened", { problem: found.problem });
    if (!token || !found || !("credentials" in found)) return env;
    opened = { sealedBy: token, credentials: found.credentials, merged: new WeakMap() };
  }
  // The same merged object for the same bindings, so that loadConfig's cache holds.
  let merged = opened.merged.get(env);
  if (!merged) {
    const { credentials } = opened;
    merged = {
      ...env,
      GITHUB_APP_ID: env.GITHUB_APP_ID?.trim() || credentials.appId,
      GITHUB_APP_PRIVATE_KEY: env.GITHUB_APP_PRIVATE_KEY?.trim() || credentials.privateKey,
      GITHUB_WEBHOOK_SECRET: env.GITHUB_WEBHOOK_SECRET?.trim() || credentials.webhookSecret,
    };
    opened.merged.set(env, merged);
  }
  return merged;
}

/** Why the App credentials `/setup` stored cannot be used, when they are needed and cannot (for `/healthz`). */
export async function storedCredentialsProblem(env: WorkerEnv): Promise<string | undefined> {
  if (env.GITHUB_APP_ID?.trim() && env.GITHUB_APP_PRIVATE_KEY?.trim() && env.GITHUB_WEBHOOK_SECRET?.trim()) return;
  if (!env.TASKS) return;
  const found = await openCredentials(env.TASKS, env.SETUP_TOKEN?.trim()).catch(() => undefined);
  return found && "problem" in found ? found.problem : undefined;
}

/** Test hook: a cold isolate. */
export function forgetOpenedCredentials(): void {
  opened = undefined;
}
