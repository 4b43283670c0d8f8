import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { http, passthrough } from "msw";
import { expect } from "vitest";
import type { WorkerEnv } from "../../src/config";
import { forgetAppIdentity } from "../../src/github/app-identity";
import { clearInstallationTokenCache } from "../../src/github/client";
import { forgetDenied } from "../../src/github/permission";
import worker from "../../src/index";
import { forgetClaims } from "../../src/isolate-claims";
import { forgetAgentLogin } from "../../src/openhands/agent-account";
import { forgetUnsavedTicks } from "../../src/ops/tick-record";
import { clearRepoConfigMemory } from "../../src/repo-config/load";
import { FakeGitHub } from "./fakes/github";
import { FakeOpenHands } from "./fakes/openhands";

export { mostInOneSecond } from "./fakes/recorder";

import { network } from "./network";
import { type DeliveryOptions, signedDelivery } from "./webhook";

export { examplePayloads, issueCommentPayload } from "./webhook";

export type TestEnv = WorkerEnv & Pick<Cloudflare.Env, "TEST_PRIVATE_KEY_PKCS8" | "TEST_PUBLIC_KEY">;

/** The GitHub fakes of the running test. */
const fakeGitHubs: FakeGitHub[] = [];

/** Fails the test if the App posted anything OpenHands' own GitHub App would answer (run after each test). */
export function expectNothingOpenHandsAppAnswers() {
  const answered = fakeGitHubs.flatMap((github) => github.bodiesOpenHandsAppAnswers());
  fakeGitHubs.length = 0;
  expect(answered, "comments OpenHands' own GitHub App would answer").toEqual([]);
}

/** A GitHub and an OpenHands fake wired to the Worker's outbound fetch through msw. */
export function startFakes(overrides: Partial<TestEnv> = {}) {
  clearInstallationTokenCache();
  clearRepoConfigMemory();
  forgetAppIdentity();
  forgetAgentLogin();
  forgetDenied();
  forgetUnsavedTicks();
  forgetClaims();
  const github = new FakeGitHub({
    appId: env.GITHUB_APP_ID,
    publicKeyPem: env.TEST_PUBLIC_KEY,
    baseUrl: overrides.GITHUB_API_URL,
  });
  fakeGitHubs.push(github);
  const openhands = new FakeOpenHands({ apiKey: env.OPENHANDS_API_KEY, baseUrl: overrides.OPENHANDS_BASE_URL });
  simulatedAheadMs = 0;
  openhands.rateLimitClock = () => Date.now() + simulatedAheadMs;
  network.use(
    http.all("*", async ({ request }) => {
      const req = request as unknown as Request;
      return (await github.handle(req.clone())) ?? (await openhands.handle(req)) ?? passthrough();
    }),
  );
  const testEnv = { ...env, ...overrides } as TestEnv;
  return { github, openhands, env: testEnv };
}

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

/** Delivers `payload` as an `issue_comment` event to the Worker, with `env` or the fakes' own. */
export async function deliverComment(fakes: { env: TestEnv }, payload: unknown, env: TestEnv = fakes.env) {
  return callWorker(await signedWebhook("issue_comment", payload), env);
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
