/**
 * The Worker as Cloudflare runs it, but in Node: `src/index.ts` bundled by esbuild
 * with the Workers' export conditions, its `fetch` and `scheduled` called directly
 * with an in-memory counting KV, test secrets and fake upstreams behind a stubbed
 * global fetch. workerd's clocks do not advance during pure computation (only on
 * I/O), so CPU cost can only be timed outside it.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { FakeGitHub } from "../test/support/fakes/github";
import { FakeOpenHands } from "../test/support/fakes/openhands";
import { signedDelivery } from "../test/support/webhook";
import type { CountingKV } from "./kv";

const root = fileURLToPath(new URL("..", import.meta.url));

export interface WorkerModule {
  fetch(request: Request, env: Record<string, unknown>, ctx: Ctx): Promise<Response>;
  scheduled(
    controller: { scheduledTime: number; cron: string; noRetry(): void },
    env: Record<string, unknown>,
    ctx: Ctx,
  ): Promise<void>;
}

export interface Ctx {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  props: Record<string, unknown>;
}

/** A ctx whose waitUntil collects the promises, to be awaited outside the timed section. */
export function executionContext(): { ctx: Ctx; settled(): Promise<void> } {
  const pending: Promise<unknown>[] = [];
  return {
    ctx: { waitUntil: (p) => void pending.push(p), passThroughOnException: () => {}, props: {} },
    settled: async () => {
      while (pending.length) await Promise.allSettled(pending.splice(0));
    },
  };
}

/** Bundles src/index.ts as wrangler would (workerd conditions, everything inlined) and imports it. */
export async function loadWorkerBundle(): Promise<{ worker: WorkerModule; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), "worker-bench-"));
  const outfile = join(dir, "worker.mjs");
  try {
    const result = await build({
      entryPoints: [join(root, "src/index.ts")],
      bundle: true,
      platform: "neutral",
      format: "esm",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      // wrangler.toml's [alias]; node:* modules are provided by the runtime (nodejs_compat, or Node here).
      alias: { "@octokit/webhooks-methods": join(root, "node_modules/@octokit/webhooks-methods/dist-node/index.js") },
      external: ["node:*"],
      mainFields: ["browser", "module", "main"],
      outfile,
      metafile: true,
      logLevel: "error",
    });
    const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
    const mod = (await import(pathToFileURL(outfile).href)) as { default: WorkerModule };
    return { worker: mod.default, bytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The cron interval from wrangler.toml (a schedule of every N minutes): the benchmark ticks as Cloudflare would. */
export function cronSchedule(): { cron: string; intervalMs: number; ticksPerDay: number } {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const cron = /crons\s*=\s*\[\s*"([^"]+)"/.exec(toml)?.[1];
  const minutes = Number(/^\*\/(\d+) \* \* \* \*$/.exec(cron ?? "")?.[1]);
  if (!cron || !Number.isInteger(minutes) || minutes < 1)
    throw new Error(`bench: cannot read a "*/N * * * *" cron from wrangler.toml (${cron})`);
  return { cron, intervalMs: minutes * 60_000, ticksPerDay: 1440 / minutes };
}

/** Free plan, per day (https://developers.cloudflare.com/kv/platform/limits/). */
export const FREE = { reads: 100_000, writes: 1_000, deletes: 1_000, lists: 1_000 } as const;

let nextComment = 7_000_000_000;
let nextIssue = 50_000;

/**
 * A signed `issue_comment.created` delivery of GitHub's example, on a new issue and comment each
 * time, made now (by the clock in force), by the repository's owner.
 */
export function commentDelivery(
  template: Record<string, any>,
  options: { installationId?: number; repository?: string } = {},
): Promise<Request> {
  const payload = structuredClone(template);
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  payload.comment.body = "@openhands-app please fix this";
  payload.comment.id = nextComment++;
  payload.comment.created_at = payload.comment.updated_at = payload.issue.created_at = payload.issue.updated_at = now;
  payload.comment.author_association = "OWNER";
  payload.issue.number = nextIssue++;
  if (options.installationId !== undefined)
    payload.installation = { id: options.installationId, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  if (options.repository !== undefined) {
    payload.repository.name = options.repository;
    payload.repository.full_name = `${payload.repository.owner.login}/${options.repository}`;
  }
  return signedDelivery("issue_comment", payload, { secret: WEBHOOK_SECRET, keepTimes: true, contentLength: true });
}

export const WEBHOOK_SECRET = "bench-webhook-secret-0123456789ab"; // 32 characters
const OPENHANDS_API_KEY = "oh_test_api_key_0123456789";
export const APP_ID = "123456";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const privateKeyPkcs1 = keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const publicKeySpki = keys.publicKey.export({ type: "spki", format: "pem" }).toString();

export interface Upstreams {
  github: FakeGitHub;
  openhands: FakeOpenHands;
  /** Outbound requests the Worker made, GitHub and OpenHands together. */
  outbound: number;
  /** µs spent inside the fakes, to take out of the Worker's time. */
  fakeUs: number;
  /** While set, no upstream answers: work after the answer waits at its first request. */
  silent: boolean;
}

let upstreams: Upstreams | undefined;

/**
 * Fakes behind globalThis.fetch; every outbound request is counted. One set for the
 * whole run: the Worker keeps installation tokens in isolate memory, and only the
 * fake that issued a token accepts it.
 */
export function stubUpstreams(): Upstreams {
  const github = new FakeGitHub({ appId: APP_ID, publicKeyPem: publicKeySpki });
  // Counts, not timings, are measured on the simulated clock, which stands still within a tick:
  // the rate limit and the pacing are measured in real time by bench/burst.ts, which turns them on.
  const openhands = new FakeOpenHands({ apiKey: OPENHANDS_API_KEY, rateLimit: false });
  upstreams = { github, openhands, outbound: 0, fakeUs: 0, silent: false };
  return upstreams;
}

const realFetch = globalThis.fetch;
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const fakes = upstreams;
  if (!fakes) return realFetch(input, init);
  if (fakes.silent) return new Promise<Response>(() => {});
  const start = performance.now();
  try {
    const request = new Request(input, init);
    fakes.outbound++;
    return (
      (await fakes.github.handle(request.clone())) ??
      (await fakes.openhands.handle(request)) ??
      new Response(JSON.stringify({ message: "Not Found" }), {
        status: 404,
        headers: { "content-type": "application/json" },
      })
    );
  } finally {
    fakes.fakeUs += (performance.now() - start) * 1000;
  }
};

export function workerEnv(kv: CountingKV, overrides: Record<string, string> = {}): Record<string, unknown> {
  return {
    TASKS: kv,
    GITHUB_APP_ID: APP_ID,
    GITHUB_APP_PRIVATE_KEY: privateKeyPkcs1,
    GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    OPENHANDS_API_KEY,
    GITHUB_RETRY_DELAY_MS: "0",
    // Unpaced (see stubUpstreams); bench/burst.ts sets the default back.
    OPENHANDS_REQUESTS_PER_SECOND: "1000",
    // Served accounts named here, so no GET /app is needed to learn the App's owner.
    ALLOWED_OWNERS: "Codertocat",
    AGENT_GITHUB_LOGIN: "openhands-agent",
    ...overrides,
  };
}

/** The Worker's log lines are JSON on the console; the benchmark prints its own. */
export async function quietly<T>(run: () => Promise<T>): Promise<T> {
  const saved = { log: console.log, warn: console.warn, error: console.error, info: console.info };
  console.log = console.warn = console.error = console.info = () => {};
  try {
    return await run();
  } finally {
    Object.assign(console, saved);
  }
}
