import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import type { WorkerEnv } from "../../src/config";
import worker from "../../src/index";
import type { FakeGitHub } from "./fakes/github";
import type { FakeOpenHands } from "./fakes/openhands";

export { mostInOneSecond } from "./fakes/recorder";

import { type DeliveryOptions, signedDelivery } from "./webhook";

export { examplePayloads, issueCommentPayload } from "./webhook";

export type TestEnv = WorkerEnv & Pick<Cloudflare.Env, "TEST_PRIVATE_KEY_PKCS8" | "TEST_PUBLIC_KEY">;

/** Sends a request to the Worker and waits for the work it left in waitUntil. */
export async function callWorker(request: Request, testEnv: TestEnv): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * Sends a request and returns as soon as the Worker answers, as GitHub sees it:
 * the work left in waitUntil goes on until `settled()`.
 */
export async function callWorkerWithoutWaiting(request: Request, testEnv: TestEnv) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, testEnv, ctx);
  return { response, settled: () => waitOnExecutionContext(ctx) };
}

/**
 * How far the latest `runCron` ran ahead of the real clock. The OpenHands fake's rate
 * limiter counts in that time, so ticks minutes apart are not one burst to it.
 */
let simulatedAheadMs = 0;

/** A clock at the latest tick's time, started again at the real time: for a new test's fakes. */
export function restartSimulatedClock(): () => number {
  simulatedAheadMs = 0;
  return () => Date.now() + simulatedAheadMs;
}

/** Runs the cron handler as Cloudflare would at `when`. */
export async function runCron(testEnv: TestEnv, when = new Date()): Promise<void> {
  simulatedAheadMs = Math.max(simulatedAheadMs, when.getTime() - Date.now());
  const controller = createScheduledController({ scheduledTime: when, cron: "*/3 * * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, testEnv, ctx);
  await waitOnExecutionContext(ctx);
}

/** A webhook request signed as GitHub signs it, with the tests' webhook secret unless told another. */
export function signedWebhook(
  event: string,
  payload: unknown,
  options: Omit<DeliveryOptions, "secret" | "url" | "contentLength"> & { secret?: string } = {},
): Promise<Request> {
  return signedDelivery(event, payload, { ...options, secret: options.secret ?? env.GITHUB_WEBHOOK_SECRET! });
}

/** All KV entries, parsed, with their metadata. */
export async function kvSnapshot(testEnv: TestEnv) {
  const list = await testEnv.TASKS.list();
  return Promise.all(
    list.keys.map(async (key) => ({
      name: key.name,
      metadata: key.metadata,
      value: await testEnv.TASKS.get(key.name),
    })),
  );
}

/** Everything KV holds under the task keys, tasks and undecided events alike: for "nothing kept". */
export async function taskKeys(env: TestEnv) {
  return (await kvSnapshot(env)).filter((e) => e.name.startsWith("task:"));
}

/**
 * GitHub calls that change or reveal something, leaving out what any candidate
 * event may cost: the installation token, reading `.github/openhands.yml`, and
 * asking which account owns the App (`GET /app`, once a day).
 */
export function effectfulGitHubCalls(github: FakeGitHub) {
  return github.requests.filter(
    (r) =>
      !/\/access_tokens$/.test(r.path) &&
      !/\/contents\/\.github(%2F|\/)openhands\.yml$/.test(r.path) &&
      r.path !== "/app",
  );
}

/** OpenHands calls that start or read work, leaving out the daily question of which GitHub account the agent writes as. */
export function openHandsWork(openhands: FakeOpenHands) {
  return openhands.requests.filter((r) => r.path !== "/api/v1/users/git-info");
}

/** KV entries other than the caches: the repository config, the App's owner, the agent's account. */
export async function kvWithoutConfigCache(testEnv: TestEnv) {
  return (await kvSnapshot(testEnv)).filter(
    (e) => !e.name.startsWith("repo-config:") && e.name !== "app:identity" && e.name !== "agent:login",
  );
}

/**
 * The environment with its KV binding recorded: every call as "<method> <key>", and
 * each put with its options (metadata, expiration).
 */
export function recordingKv(testEnv: TestEnv) {
  const calls: string[] = [];
  const puts: { key: string; options?: KVNamespacePutOptions }[] = [];
  const kv = testEnv.TASKS;
  const TASKS = new Proxy(kv, {
    get: (target, property) => {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const key = typeof args[0] === "string" ? args[0] : "";
        calls.push(`${String(property)} ${key}`.trim());
        if (property === "put") puts.push({ key, options: args[2] as KVNamespacePutOptions | undefined });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { calls, puts, env: { ...testEnv, TASKS } };
}
