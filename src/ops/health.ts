import { Hono } from "hono";
import {
  type Config,
  ConfigError,
  loadConfig,
  resolveEnv,
  SERVICE,
  storedCredentialsProblem,
  type WorkerEnv,
} from "../config";
import { knownTriggerWords } from "../github/app-identity";
import { errorName, log } from "../log";
import { collisionWarnings } from "../openhands/github-app";
import { STATUS_TOKEN_MIN_CHARS, statusToken } from "./token";

/**
 * `GET /healthz`: is this deployment able to work? The configuration complete and
 * valid (the names of what is missing or malformed, never a value), and KV
 * answering a read. 200 when ready, 503 otherwise, so an uptime check needs no
 * parsing. Public: it says nothing a misconfigured webhook would not log.
 */
export const healthRoute = new Hono<{ Bindings: WorkerEnv }>();

/** A key nothing writes: reading it proves KV answers, and costs one read. */
const PROBE_KEY = "healthz:probe";
const KV_TIMEOUT_MS = 2_000;

type Check = "ok" | "invalid" | "unavailable" | "not checked";

healthRoute.get("/", async (c) => {
  const problems: string[] = [];
  const warnings: string[] = [];
  let config: Check = "ok";
  let env: WorkerEnv = c.env;
  let loaded: Config | undefined;
  try {
    env = await resolveEnv(c.env);
    loaded = loadConfig(env);
  } catch (error) {
    config = "invalid";
    // First why the App credentials /setup stored do not open, if that is what is missing.
    const sealed = await storedCredentialsProblem(c.env).catch(() => undefined);
    if (sealed) problems.push(sealed);
    if (error instanceof ConfigError) problems.push(...error.problems);
    // Settings saved in KV that could not be read: KV's own check below says more.
    else problems.push("the saved settings could not be read");
  }
  const kv: Check = env.TASKS ? await kvAnswers(env.TASKS, problems) : "not checked";
  if (env.STATUS_TOKEN?.trim() && !statusToken(env)) {
    warnings.push(`STATUS_TOKEN must be at least ${STATUS_TOKEN_MIN_CHARS} characters; GET /status is off until it is`);
  }
  const triggers = loaded && kv === "ok" ? await triggerDetails(loaded, env.TASKS, warnings) : undefined;
  const ok = problems.length === 0;
  return c.json(
    {
      ok,
      service: SERVICE,
      checks: { config, kv },
      ...(triggers ? { triggers } : {}),
      ...(ok ? {} : { problems }),
      ...(warnings.length ? { warnings } : {}),
    },
    ok ? 200 : 503,
  );
});

/**
 * The words that ask this App for work, and where they come from: set by the
 * operator, or the App's slug (learnt from GitHub by the first webhook or cron
 * tick; this public route never asks GitHub itself).
 */
async function triggerDetails(config: Config, kv: KVNamespace, warnings: string[]) {
  const words = await knownTriggerWords(config, kv).catch(() => undefined);
  warnings.push(...collisionWarnings({ mention: config.mention, label: config.label }, config.gitIdentity === "app"));
  const from = (name: "MENTION" | "LABEL", value: string | undefined) =>
    value !== undefined
      ? name
      : words
        ? "the App's slug"
        : "the App's slug, not learnt yet (the next cron tick asks GitHub)";
  return {
    mention: words?.mention ?? null,
    label: words?.label ?? null,
    mentionFrom: from("MENTION", config.mention),
    labelFrom: from("LABEL", config.label),
  };
}

async function kvAnswers(kv: KVNamespace, problems: string[]): Promise<Check> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), KV_TIMEOUT_MS)));
  try {
    const answer = await Promise.race([kv.get(PROBE_KEY).then(() => "read" as const), timedOut]);
    if (answer === "read") return "ok";
    problems.push(`KV namespace TASKS did not answer a read within ${KV_TIMEOUT_MS / 1000} s`);
  } catch (error) {
    log("error", "health.kv_failed", { error: errorName(error) });
    problems.push("KV namespace TASKS failed a read");
  } finally {
    clearTimeout(timer);
  }
  return "unavailable";
}
