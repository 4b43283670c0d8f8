/**
 * `npm run bench`: what a webhook costs this Worker, next to the floor (HMAC + JSON.parse),
 * bare @octokit/webhooks and Probot, all in one Node process on the same signed payload;
 * then what a cron tick costs with 0–500 pending tasks, and what a task costs in KV
 * operations and upstream requests, counted by the KV binding and the fake upstreams.
 * Writes BENCHMARKS.md and prints the same tables.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { Webhooks } from "@octokit/webhooks";
import { Hono } from "hono";
import { examplePayloads, happenedNow, signedDelivery } from "../test/support/webhook";
import { type BurstReport, runBurstBench } from "./burst";
import { type CronReport, runCronBench } from "./cron";
import { type DaysReport, runDays } from "./day";
import { CountingKV, type KvCounts } from "./kv";
import { fmt, measure, type Timing, table, timed } from "./stats";
import {
  APP_ID,
  executionContext,
  loadWorkerBundle,
  quietly,
  stubUpstreams,
  type Upstreams,
  WEBHOOK_SECRET,
  type WorkerModule,
  workerEnv,
} from "./worker";

const RUNS = Number(process.env.BENCH_RUNS ?? 1500);
const ACCEPTED_RUNS = Number(process.env.BENCH_ACCEPTED_RUNS ?? 300);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);

type Payload = Record<string, any>;

function example(event: string, pick: (p: Payload) => boolean): Payload {
  const found = examplePayloads(event).find(pick);
  if (!found) throw new Error(`no ${event} example`);
  return found;
}

function commentPayload(body: string, commentId?: number): Payload {
  const payload = happenedNow(example("issue_comment", (p) => p.action === "created" && p.installation));
  payload.comment.body = body;
  payload.comment.author_association = "OWNER";
  if (commentId !== undefined) payload.comment.id = commentId;
  return payload;
}

/** The floor's own signing, and a wrong signature: the Worker's requests are signed by `signedDelivery`. */
function sign(rawBody: string): string {
  return `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(rawBody).digest("hex")}`;
}

function webhookRequest(event: string, rawBody: string, signature?: string | null, delivery?: string) {
  return signedDelivery(event, undefined, {
    secret: WEBHOOK_SECRET,
    rawBody,
    signature,
    delivery,
    contentLength: true,
  });
}

interface Row {
  what: string;
  timing: Timing;
  /** Per request, waitUntil work included; undefined for the comparisons outside the Worker. */
  kv?: KvCounts;
  outbound?: number;
  answer?: string;
}

function perRequest(total: KvCounts, runs: number): KvCounts {
  return {
    reads: total.reads / runs,
    writes: total.writes / runs,
    deletes: total.deletes / runs,
    lists: total.lists / runs,
  };
}

async function compareBaselines(rawBody: string, signature: string): Promise<{ rows: Row[]; probotNote: string }> {
  const rows: Row[] = [];
  const floor = await measure(RUNS, WARMUP, async () =>
    timed(async () => {
      const digest = `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(rawBody).digest("hex")}`;
      if (digest !== signature) throw new Error("floor: signature mismatch");
      JSON.parse(rawBody);
    }),
  );
  rows.push({ what: "floor: HMAC-SHA256 of the raw body (node:crypto) + `JSON.parse`", timing: floor });

  // What any Worker answering over HTTP pays on top: the body read from the Request, the
  // Response, Hono's routing. Node's Request and Response cost more than workerd's.
  const http = new Hono();
  http.post("/api/github/webhooks", async (c) => {
    const body = await c.req.text();
    const expected = Buffer.from(`sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`);
    const given = Buffer.from(c.req.header("x-hub-signature-256") ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return c.json({ error: "invalid signature" }, 401);
    JSON.parse(body);
    return c.json({ ok: true, ignored: "no mention" }, 200);
  });
  const httpFloor = await measure(RUNS, WARMUP, async () => {
    const request = await webhookRequest("issue_comment", rawBody, signature);
    return timed(async () => {
      const response = await http.fetch(request);
      if (response.status !== 200) throw new Error("HTTP floor: not 200");
    });
  });
  rows.push({
    what: "HTTP floor: a bare Hono app that reads the body, checks the HMAC (node:crypto), parses and answers",
    timing: httpFloor,
  });

  const webhooks = new Webhooks({ secret: WEBHOOK_SECRET });
  webhooks.on("issue_comment.created", () => {});
  const bare = await measure(RUNS, WARMUP, async () =>
    timed(() => webhooks.verifyAndReceive({ id: "bench", name: "issue_comment", payload: rawBody, signature })),
  );
  rows.push({ what: "bare `@octokit/webhooks` `verifyAndReceive` (no-op handler)", timing: bare });

  let probotNote: string;
  try {
    const { Probot } = (await import("probot")) as typeof import("probot");
    const manifest = JSON.parse(
      readFileSync(new URL("../node_modules/probot/package.json", import.meta.url), "utf8"),
    ) as { version: string; engines: { node: string } };
    const version = manifest.version;
    const { privateKey } = (await import("node:crypto")).generateKeyPairSync("rsa", { modulusLength: 2048 });
    const probot = new Probot({
      appId: APP_ID,
      privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      secret: WEBHOOK_SECRET,
      logLevel: "fatal",
    });
    await probot.load((app) => app.on("issue_comment.created", async () => {}));
    await probot.ready();
    const timing = await measure(RUNS, WARMUP, async () =>
      timed(() =>
        probot.webhooks.verifyAndReceive({
          id: "bench",
          name: "issue_comment",
          payload: rawBody,
          signature,
        } as Parameters<typeof probot.webhooks.verifyAndReceive>[0]),
      ),
    );
    rows.push({ what: `Probot ${version} (\`webhooks.verifyAndReceive\`, no-op \`app.on\` handler)`, timing });
    probotNote = `Probot ${version} installs on Node ${process.versions.node} (its engines: \`${manifest.engines.node}\`).`;
  } catch (error) {
    probotNote = `Probot 14 left out: ${error instanceof Error ? error.message : String(error)}`;
  }
  return { rows, probotNote };
}

interface Kind {
  what: string;
  runs: number;
  /** Builds the request for run i (untimed). */
  request(i: number): Promise<Request>;
  /** Puts KV back after each run (untimed), for requests that must each look like the first. */
  resetKv?: boolean;
  /** Upstreams never answer, so the work after the answer stops at its first request (and is not awaited). */
  silentUpstreams?: boolean;
}

async function measureWorker(
  worker: WorkerModule,
  kv: CountingKV,
  env: Record<string, unknown>,
  upstreams: Upstreams,
  kind: Kind,
): Promise<Row> {
  // Each kind starts on a collected heap: the garbage an earlier kind left (the accepted requests' upstream
  // work) is not billed to this one. `npm run bench` sets NODE_OPTIONS=--expose-gc.
  (globalThis as { gc?: () => void }).gc?.();
  const saved = kv.snapshot();
  let answer = "";
  let counts: KvCounts = { reads: 0, writes: 0, deletes: 0, lists: 0 };
  let outbound = 0;
  const timing = await measure(kind.runs, Math.min(WARMUP, kind.runs), async (i) => {
    const request = await kind.request(i);
    const { ctx, settled } = executionContext();
    kv.resetCounts();
    const outboundBefore = upstreams.outbound;
    let response: Response | undefined;
    upstreams.silent = kind.silentUpstreams ?? false;
    const us = await timed(async () => {
      response = await worker.fetch(request, env, ctx);
    });
    const text = await response!.text();
    if (!kind.silentUpstreams) await settled();
    upstreams.silent = false;
    if (i >= 0) {
      const c = kv.resetCounts();
      counts = {
        reads: counts.reads + c.reads,
        writes: counts.writes + c.writes,
        deletes: counts.deletes + c.deletes,
        lists: counts.lists + c.lists,
      };
      outbound += upstreams.outbound - outboundBefore;
      if (i === 0) answer = `${response!.status} ${text.slice(0, 70)}`;
    }
    if (kind.resetKv) kv.restore(saved);
    return us;
  });
  return { what: kind.what, timing, kv: perRequest(counts, kind.runs), outbound: outbound / kind.runs, answer };
}

async function main() {
  const started = Date.now();
  const plain = commentPayload("This is a really good change! :+1:");
  const rawPlain = JSON.stringify(plain);
  const signaturePlain = sign(rawPlain);
  const kib = (rawPlain.length / 1024).toFixed(1);
  console.log(
    `payload: issue_comment.created example, ${rawPlain.length} bytes (${kib} KiB); ${RUNS} runs per kind after ${WARMUP} warm-up runs`,
  );

  const { rows: baselines, probotNote } = await compareBaselines(rawPlain, signaturePlain);
  console.log(probotNote);

  const { worker, bytes } = await loadWorkerBundle();
  const kv = new CountingKV();
  const env = workerEnv(kv);

  const alice = JSON.stringify(commentPayload("@alice looks good"));
  const star = happenedNow(example("star", (p) => p.action === "created"));
  star.installation = { id: 1, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  const rawStar = JSON.stringify(star);
  const redelivered = JSON.stringify(commentPayload("@openhands-app please fix this", 9_000_000_000));
  const redeliveryId = "72d3162e-cc78-11e3-81ab-redelivered0";

  const kinds: Kind[] = [
    {
      what: 'this Worker: a comment without any "@" (ignored)',
      runs: RUNS,
      request: () => webhookRequest("issue_comment", rawPlain, signaturePlain),
    },
    {
      what: 'this Worker: "@alice looks good" (ignored; config cached after the first run)',
      runs: RUNS,
      request: () => webhookRequest("issue_comment", alice),
    },
    {
      what: "this Worker: another event, `star.created` (ignored)",
      runs: RUNS,
      request: () => webhookRequest("star", rawStar),
    },
    {
      what: 'this Worker: "@alice looks good" on a repository the App has no config for (new to it, or quiet for a week)',
      runs: ACCEPTED_RUNS,
      resetKv: true,
      request: (i) => {
        const payload = commentPayload("@alice looks good");
        payload.repository.name = `Hello-World-${i + WARMUP + 1}`;
        payload.repository.full_name = `Codertocat/${payload.repository.name}`;
        const raw = JSON.stringify(payload);
        return webhookRequest("issue_comment", raw);
      },
    },
    {
      what: `this Worker: accepted "@openhands-app please fix this" (answer only; KV reset each run)`,
      runs: ACCEPTED_RUNS,
      resetKv: true,
      request: (i) => {
        const raw = JSON.stringify(commentPayload("@openhands-app please fix this", 3_000_000_000 + i + WARMUP + 1));
        return webhookRequest("issue_comment", raw);
      },
    },
    {
      what: `this Worker: accepted, as above, upstreams silent (the start stops at its first request: the answer without the heap its work leaves)`,
      runs: ACCEPTED_RUNS,
      resetKv: true,
      silentUpstreams: true,
      request: (i) => {
        const raw = JSON.stringify(commentPayload("@openhands-app please fix this", 4_000_000_000 + i + WARMUP + 1));
        return webhookRequest("issue_comment", raw);
      },
    },
    {
      what: "this Worker: a redelivery of an accepted request",
      runs: RUNS,
      request: () => webhookRequest("issue_comment", redelivered, undefined, redeliveryId),
    },
    {
      what: "this Worker: an unsigned body (401)",
      runs: RUNS,
      request: () => webhookRequest("issue_comment", rawPlain, null),
    },
    {
      what: "this Worker: a badly signed body (401)",
      runs: RUNS,
      request: () => webhookRequest("issue_comment", rawPlain, sign(`${rawPlain} `)),
    },
  ];

  const upstreams = stubUpstreams();
  upstreams.github.permissions.set("codertocat", "admin");
  const workerRows: Row[] = [];
  await quietly(async () => {
    // The redelivered request is accepted once before its kind is measured.
    const first = executionContext();
    await (
      await worker.fetch(await webhookRequest("issue_comment", redelivered, undefined, redeliveryId), env, first.ctx)
    ).text();
    await first.settled();
    for (const kind of kinds) workerRows.push(await measureWorker(worker, kv, env, upstreams, kind));
  });

  const floor = baselines[0]!.timing.median;
  const httpFloor = baselines[1]!.timing.median;
  const rows = [...baselines, ...workerRows];
  const headline = table(
    ["what", "µs median", "µs p99", "× floor", "× HTTP floor", "runs"],
    rows.map((r) => [
      r.what,
      fmt(r.timing.median),
      fmt(r.timing.p99),
      (r.timing.median / floor).toFixed(2),
      (r.timing.median / httpFloor).toFixed(2),
      String(r.timing.runs),
    ]),
  );
  const perKind = table(
    ["request", "answer", "KV reads", "KV writes", "KV deletes", "KV lists", "upstream requests"],
    workerRows.map((r) => [
      r.what.replace(/^this Worker: /, ""),
      `\`${r.answer!.replace(/`/g, "'")}\``,
      r.kv!.reads.toFixed(2),
      r.kv!.writes.toFixed(2),
      r.kv!.deletes.toFixed(2),
      r.kv!.lists.toFixed(2),
      r.outbound!.toFixed(2),
    ]),
  );
  console.log(
    `\nWebhook cost\n\n${headline}\n\nPer request (waitUntil work included, counted by the KV binding and the fake upstreams)\n\n${perKind}`,
  );

  let cron: CronReport | undefined;
  let days: DaysReport | undefined;
  let burst: BurstReport | undefined;
  if (process.env.BENCH_SKIP_CRON !== "1") {
    const template = example("issue_comment", (p) => p.action === "created" && p.installation);
    cron = await quietly(() => runCronBench(worker, upstreams, template));
    console.log(`\n${cron.markdown}`);
    days = await quietly(() => runDays(upstreams, template));
    console.log(`\n${days.markdown}`);
    burst = await quietly(() => runBurstBench(worker, upstreams, template));
    console.log(`\n${burst.markdown}`);
  }

  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const when = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const md = [
    "# Benchmarks",
    "",
    "<!-- Generated by `npm run bench` (bench/webhook-cost.ts). Do not edit by hand: run it again. -->",
    "",
    `Written by \`npm run bench\`, never by hand. Run: ${when}, Node ${process.versions.node}, ${cpu} (${cpus().length} cores), ${process.platform}/${process.arch}.`,
    "",
    "## Webhook cost",
    "",
    `The Worker is \`src/index.ts\` bundled by esbuild as wrangler bundles it (${(bytes / 1024).toFixed(0)} KiB, conditions \`workerd\`, \`worker\`, \`browser\`) ` +
      "and called through its `fetch` export in Node, with an in-memory KV that counts every operation, fake GitHub and OpenHands " +
      "(`test/support/fakes/`) behind a stubbed `fetch`, `ALLOWED_OWNERS` and `AGENT_GITHUB_LOGIN` set. workerd's clocks do not advance during " +
      "pure computation (only on I/O), so CPU time cannot be measured inside it: the same bundle is timed in Node, in one process and one " +
      "run next to the alternatives.",
    "",
    `Payload: GitHub's \`issue_comment.created\` example from \`@octokit/webhooks-examples\` (${rawPlain.length} bytes), signed, its times set to now, ` +
      `\`author_association\` OWNER. Median and p99 of ${RUNS} runs per kind after ${WARMUP} warm-up runs (the accepted request: ${ACCEPTED_RUNS} runs, ` +
      "each with a new comment id, KV put back after each so every one is a first request; its time is the answer only, the work left in " +
      "`waitUntil` is awaited outside the timed section). " +
      probotNote,
    "",
    headline,
    "",
    "What each request did, per request, `waitUntil` work included:",
    "",
    perKind,
    "",
    ...(cron ? [cron.markdown, ""] : []),
    ...(days ? [days.markdown, ""] : []),
    ...(burst ? [burst.markdown, ""] : []),
    `_${((Date.now() - started) / 1000).toFixed(0)} s to run._`,
    "",
  ].join("\n");
  const file = fileURLToPath(new URL("../BENCHMARKS.md", import.meta.url));
  writeFileSync(file, md + handWritten(file));
  console.log(`\nwrote BENCHMARKS.md (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

/** What follows the marker in BENCHMARKS.md is measured by hand, and kept as it is. */
const HAND_WRITTEN = "<!-- The part below is written by hand";

function handWritten(file: string): string {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return "";
  }
  const at = text.indexOf(HAND_WRITTEN);
  return at === -1 ? "" : `\n${text.slice(at)}`;
}

await main();
