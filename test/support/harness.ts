import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { Webhooks } from "@octokit/webhooks";
import examples from "@octokit/webhooks-examples";
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

type Example = { name: string; examples: Record<string, unknown>[] };

/** GitHub's own example payloads, deep-copied so a test can adapt one safely. */
export function examplePayloads(event: string): Record<string, any>[] {
  const entry = (examples as unknown as Example[]).find((e) => e.name === event);
  if (!entry) throw new Error(`no example payloads for ${event}`);
  return entry.examples.map((e) => structuredClone(e));
}

/**
 * The `issue_comment.created` example, as if a maintainer wrote `body`. The
 * installation is added because GitHub sends it to Apps (the example came from a repo hook).
 */
export function issueCommentPayload(
  body: string,
  options: { pullRequest?: boolean; sender?: Record<string, unknown>; installationId?: number } = {},
) {
  const payload = examplePayloads("issue_comment").find((p) => p.action === "created" && p.installation)!;
  payload.comment.body = body;
  // A fresh installation per test by default: Octokit spaces writes per installation,
  // and a test need not wait for the previous test's writes.
  payload.installation = {
    id: options.installationId ?? nextInstallationId++,
    node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMjMxMTIxMw==",
  };
  if (options.sender) {
    payload.sender = { ...payload.sender, ...options.sender };
    payload.comment.user = { ...payload.comment.user, ...options.sender };
  }
  if (options.pullRequest) {
    payload.issue.pull_request = {
      url: `https://api.github.com/repos/${payload.repository.full_name}/pulls/${payload.issue.number}`,
      html_url: `https://github.com/${payload.repository.full_name}/pull/${payload.issue.number}`,
      diff_url: `https://github.com/${payload.repository.full_name}/pull/${payload.issue.number}.diff`,
      patch_url: `https://github.com/${payload.repository.full_name}/pull/${payload.issue.number}.patch`,
      merged_at: null,
    };
  }
  return payload;
}

let deliveries = 0;
let nextInstallationId = 2311213;

/**
 * GitHub delivers an event seconds after it happens; its examples are years old.
 * The times the App judges a request by (created, edited, labelled, submitted)
 * are set to now, unless a test is about an old one.
 */
function happenedNow(payload: unknown): unknown {
  if (typeof payload !== "object" || payload === null) return payload;
  const copy = structuredClone(payload) as Record<string, unknown>;
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  for (const key of ["comment", "issue", "pull_request", "review"]) {
    const item = copy[key] as Record<string, unknown> | undefined;
    if (typeof item !== "object" || item === null) continue;
    for (const field of ["created_at", "updated_at", "submitted_at"])
      if (typeof item[field] === "string") item[field] = now;
  }
  return copy;
}

/** A webhook request signed as GitHub signs it (HMAC-SHA256 of the raw body). */
export async function signedWebhook(
  event: string,
  payload: unknown,
  options: {
    secret?: string;
    signature?: string | null;
    rawBody?: string;
    delivery?: string;
    keepTimes?: boolean;
  } = {},
): Promise<Request> {
  const rawBody = options.rawBody ?? JSON.stringify(options.keepTimes ? payload : happenedNow(payload));
  const signature =
    options.signature === undefined
      ? await new Webhooks({ secret: options.secret ?? env.GITHUB_WEBHOOK_SECRET! }).sign(rawBody)
      : options.signature;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/2f3e1a4",
    "x-github-event": event,
    "x-github-delivery": options.delivery ?? `72d3162e-cc78-11e3-81ab-4c9367dc${String(++deliveries).padStart(4, "0")}`,
    "x-github-hook-id": "292430182",
    "x-github-hook-installation-target-type": "integration",
  };
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  return new Request("https://worker.example/api/github/webhooks", { method: "POST", headers, body: rawBody });
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
