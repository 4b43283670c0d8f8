/**
 * OpenHands requests in real time, against the fake's rate limit of 10 a second and
 * 100 a minute per user (enterprise/server/rate_limit.py) and with the Worker's own
 * pacing (8 a second per invocation): a burst of 30 requests at once, and the tick
 * that finishes 10 runs. Counted: OpenHands requests, the 429s among them, and the
 * largest number in any one second (all of them, and those the service accepted).
 */
import { FakeOpenHands } from "../test/support/fakes/openhands";
import { mostInOneSecond, type RecordedRequest } from "../test/support/fakes/recorder";
import { CountingKV } from "./kv";
import { table } from "./stats";
import {
  commentDelivery,
  cronSchedule,
  executionContext,
  type Upstreams,
  type WorkerModule,
  workerEnv,
} from "./worker";

type Payload = Record<string, any>;

const { cron: CRON, intervalMs: TICK_MS } = cronSchedule();

export interface BurstReport {
  markdown: string;
}

/** App-server requests only: the agent-server's are the sandbox's and are not rate limited. */
function appServer(openhands: FakeOpenHands, from: number): RecordedRequest[] {
  return openhands.requests.slice(from).filter((r) => r.url.startsWith(`${openhands.baseUrl}/api/`));
}

function row(what: string, requests: RecordedRequest[], refused: number, ms: number): string[] {
  return [
    what,
    String(requests.length),
    String(refused),
    String(mostInOneSecond(requests.map((r) => r.at))),
    String(requests.length - refused),
    String(mostInOneSecond(requests.filter((r) => !refusedRequests.has(r)).map((r) => r.at))),
    (ms / 1000).toFixed(1),
  ];
}

/** The requests the fake's rate limiter refused, marked as they are answered. */
const refusedRequests = new WeakSet<RecordedRequest>();

function markRefused(openhands: FakeOpenHands): () => void {
  const handle = openhands.handle.bind(openhands);
  openhands.handle = async (request: Request) => {
    const response = await handle(request);
    if (response?.status === 429) refusedRequests.add(openhands.requests.at(-1)!);
    return response;
  };
  return () => {
    openhands.handle = handle;
  };
}

export async function runBurstBench(
  worker: WorkerModule,
  upstreams: Upstreams,
  template: Payload,
): Promise<BurstReport> {
  const { openhands } = upstreams;
  openhands.rateLimit = true;
  openhands.nextScript = { ...FakeOpenHands.defaultScript(), startSteps: ["WORKING"], execution: ["finished"] };
  const kv = new CountingKV();
  const env = workerEnv(kv, { MAX_RUNNING_CONVERSATIONS: "30", OPENHANDS_REQUESTS_PER_SECOND: "8" });
  const rows: string[][] = [];
  const unmark = markRefused(openhands);
  try {
    // A maintainer asks on 30 issues at once (one installation, one OpenHands key).
    let from = openhands.requests.length;
    let refusedBefore = openhands.rateLimited;
    let started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const { ctx, settled } = executionContext();
        const response = await worker.fetch(await commentDelivery(template, { installationId: 31_000_000 }), env, ctx);
        await response.text();
        await settled();
        return response.status;
      }),
    );
    if (statuses.some((s) => s !== 202)) throw new Error(`burst bench: webhooks answered ${statuses.join(",")}`);
    rows.push(
      row(
        "30 requests at once",
        appServer(openhands, from),
        openhands.rateLimited - refusedBefore,
        Date.now() - started,
      ),
    );
    if (openhands.startTasks.size < 30) throw new Error("burst bench: not every request started within its delivery");

    // Ten more runs, on a store of their own, all over by the next tick: it finishes the ten.
    const tenKv = new CountingKV();
    const tenEnv = workerEnv(tenKv, { OPENHANDS_REQUESTS_PER_SECOND: "8" });
    for (let i = 0; i < 10; i++) {
      const { ctx, settled } = executionContext();
      await (await worker.fetch(await commentDelivery(template, { installationId: 31_000_001 }), tenEnv, ctx)).text();
      await settled();
    }
    // Ticks come minutes after the webhooks, not in the same second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const finished = () =>
      [...tenKv.data.values()].filter((e) => (e.metadata as { s?: string } | undefined)?.s === "succeeded").length;
    // The Free plan's 50 subrequests finish about 8 runs a tick; the next tick finishes the rest.
    for (let tick = 1; tick <= 3 && finished() < 10; tick++) {
      const before = finished();
      from = openhands.requests.length;
      refusedBefore = openhands.rateLimited;
      started = Date.now();
      const { ctx, settled } = executionContext();
      await worker.scheduled(
        { scheduledTime: Date.now() + tick * TICK_MS, cron: CRON, noRetry: () => {} },
        tenEnv,
        ctx,
      );
      await settled();
      rows.push(
        row(
          `tick ${tick} after 10 runs ended: finishes ${finished() - before}`,
          appServer(openhands, from),
          openhands.rateLimited - refusedBefore,
          Date.now() - started,
        ),
      );
    }
  } finally {
    unmark();
    openhands.rateLimit = false;
  }
  const markdown = [
    "## OpenHands requests in a burst",
    "",
    "Real time, the fake OpenHands enforcing the service's limit of 10 requests a second and 100 a minute per user " +
      "(`enterprise/server/rate_limit.py`), the Worker at its default pacing (`OPENHANDS_REQUESTS_PER_SECOND=8` per invocation; " +
      "a 429 asking for up to 10 s is waited out, plus up to 2 s of jitter). Concurrent invocations cannot see one another, so " +
      "across them the service's limit still refuses some; those are retried within their invocation and no thread hears of it. " +
      'App-server requests only (the sandbox\'s agent-server is not rate limited). "In any second" is any rolling second; ' +
      "the service counts fixed windows from their first hit, so up to twice its 10 can fall in one rolling second.",
    "",
    table(
      [
        "what",
        "OpenHands requests",
        "answered 429",
        "most in any second",
        "accepted",
        "most accepted in any second",
        "seconds",
      ],
      rows,
    ),
  ].join("\n");
  return { markdown };
}
