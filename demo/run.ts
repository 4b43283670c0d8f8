/**
 * `npm run demo`: the App's whole flow on one machine, with no GitHub App and no
 * OpenHands account. The test fakes of GitHub and OpenHands are served on
 * loopback ports, the Worker runs under `wrangler dev` pointed at them, and a
 * signed @openhands-app webhook plus cron ticks take one request from comment to result.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeGitHub } from "../test/support/fakes/github";
import { FakeOpenHands } from "../test/support/fakes/openhands";
import { issueCommentPayload, signedDelivery } from "../test/support/webhook";
import { LoopbackServer } from "./loopback";
import { narrateGitHub, OpenHandsNarrator, Timeline } from "./timeline";
import { DemoError, DevWorker, freePort, sleep } from "./worker";

const CRON = "*/3 * * * *"; // as in wrangler.toml
const TICK_INTERVAL_MS = 1_000;
const FLOW_TIMEOUT_MS = 90_000;
const ACCEPT_TIMEOUT_MS = 20_000;
const APP_ID = "123456";
const THREAD = { owner: "Codertocat", repo: "Hello-World", number: 1 }; // from the example payload
const COMMENT = "@openhands-app the date parser fails on leap years, please fix it and add a test";

/** Everything that must not outlive the demo, however it ends. */
const running: { worker?: DevWorker; servers: LoopbackServer[]; workDir?: string; interrupted?: NodeJS.Signals } = {
  servers: [],
};

interface Fakes {
  github: FakeGitHub;
  openhands: FakeOpenHands;
}

async function main(): Promise<number> {
  const timeline = new Timeline();
  const workDir = (running.workDir = mkdtempSync(join(tmpdir(), "openhands-demo-")));
  try {
    await demo(timeline, workDir);
    await shutdown();
    removeWorkDir();
    return 0;
  } catch (error) {
    await shutdown();
    // After Ctrl-C the flow fails because its servers are gone; that is not news.
    if (running.interrupted) return 1; // the signal handler sets the real exit code
    console.error(`\n✖ Demo failed: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof DemoError && error.details) console.error(`\n${error.details}\n`);
    if (!(error instanceof DemoError)) console.error(error);
    console.error(
      `wrangler's log: ${join(workDir, "wrangler.log")} (kept, with the Worker's local state, in ${workDir})`,
    );
    return 1;
  }
}

async function demo(timeline: Timeline, workDir: string): Promise<void> {
  const secrets = makeSecrets();
  const { fakes, githubUrl, openhandsUrl } = await startFakes(timeline, secrets);
  timeline.step("🔧", `fake GitHub API on ${githubUrl}, fake OpenHands on ${openhandsUrl}`);
  timeline.step("🔧", "starting the Worker with wrangler dev (local mode, fresh state)…");

  // Registered before it is ready, so that Ctrl-C during the start stops it too.
  const port = await freePort();
  const worker = (running.worker = DevWorker.spawn(workDir, port, {
    GITHUB_APP_ID: APP_ID,
    // One line with literal \n, as dashboards store it; the Worker turns them back (src/github/private-key.ts).
    GITHUB_APP_PRIVATE_KEY: secrets.privateKeyPkcs1.replace(/\n/g, "\\n"),
    GITHUB_WEBHOOK_SECRET: secrets.webhookSecret,
    OPENHANDS_API_KEY: secrets.openHandsApiKey,
    OPENHANDS_BASE_URL: openhandsUrl,
    GITHUB_API_URL: githubUrl,
  }));
  await worker.waitUntilReady();
  timeline.step("✅", `Worker ready on ${worker.url} (GET /healthz → 200)`);

  await sendWebhook(timeline, worker, secrets.webhookSecret);
  await waitForAcceptance(timeline, worker);
  const body = await tickUntilDone(timeline, worker, fakes.github);
  timeline.block(
    `Tracking comment on ${THREAD.owner}/${THREAD.repo}#${THREAD.number}, as posted to GitHub (markdown):`,
    body,
  );
  summarize(timeline, fakes);
}

/** A throwaway App key pair and credentials, new on every run. */
function makeSecrets() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    // PKCS#1 is what GitHub hands out for an App, so that is what the Worker gets.
    privateKeyPkcs1: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKeySpki: publicKey.export({ type: "spki", format: "pem" }).toString(),
    webhookSecret: randomBytes(20).toString("hex"),
    openHandsApiKey: `oh_demo_${randomBytes(12).toString("hex")}`,
  };
}

/**
 * GitHub on one port; OpenHands' API and its agent-server on two more, because
 * FakeOpenHands routes agent-server calls by URL prefix and matches their path
 * from the root, so the agent-server cannot live under a path of the API's host.
 */
async function startFakes(timeline: Timeline, secrets: ReturnType<typeof makeSecrets>) {
  const githubServer = await LoopbackServer.start((exchange) => narrateGitHub(timeline, exchange));
  running.servers.push(githubServer);
  const github = new FakeGitHub({ baseUrl: githubServer.url, appId: APP_ID, publicKeyPem: secrets.publicKeySpki });
  github.permissions.set("codertocat", "admin");
  githubServer.serve((request) => github.handle(request));

  let narrator: OpenHandsNarrator | undefined;
  const apiServer = await LoopbackServer.start((exchange) => narrator?.observe(exchange));
  const agentServer = await LoopbackServer.start((exchange) => narrator?.observe(exchange));
  running.servers.push(apiServer, agentServer);
  narrator = new OpenHandsNarrator(timeline, apiServer.url);
  const openhands = new FakeOpenHands({
    baseUrl: apiServer.url,
    agentServerUrl: agentServer.url,
    apiKey: secrets.openHandsApiKey,
  });
  // A short start, so the demo shows a few status changes without many ticks.
  openhands.nextScript = {
    ...FakeOpenHands.defaultScript(),
    startSteps: ["WORKING", "WAITING_FOR_SANDBOX", "PREPARING_REPOSITORY"],
  };
  apiServer.serve((request) => openhands.handle(request));
  agentServer.serve((request) => openhands.handle(request));

  return { fakes: { github, openhands } satisfies Fakes, githubUrl: githubServer.url, openhandsUrl: apiServer.url };
}

async function sendWebhook(timeline: Timeline, worker: DevWorker, secret: string): Promise<void> {
  const webhook = await signedDelivery("issue_comment", issueCommentPayload(COMMENT), {
    secret,
    url: `${worker.url}/api/github/webhooks`,
  });
  timeline.step("📨", `GitHub delivers issue_comment.created (delivery ${webhook.headers.get("x-github-delivery")}):`);
  timeline.note(`"${COMMENT}"`);
  const response = await fetch(webhook, { signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  if (response.status !== 202) {
    throw new DemoError(
      `the Worker answered the webhook with HTTP ${response.status} ${text}, expected 202`,
      worker.logTail(),
    );
  }
  timeline.step("✅", `webhook accepted: HTTP ${response.status} ${text}`);
}

/**
 * The Worker answers 202 at once and does the work in waitUntil. The cron must
 * not start before that work saved the task as started: a tick in between would
 * see it still queued and try to start it a second time.
 */
async function waitForAcceptance(timeline: Timeline, worker: DevWorker): Promise<void> {
  const event = await worker.waitForLogEvent(["webhook.handled", "webhook.failed"], ACCEPT_TIMEOUT_MS);
  if (!event)
    throw new DemoError(
      `the Worker did not finish handling the webhook within ${ACCEPT_TIMEOUT_MS / 1000} s`,
      worker.logTail(),
    );
  if (event.event === "webhook.failed")
    throw new DemoError(`the Worker failed to handle the webhook: ${JSON.stringify(event)}`, worker.logTail());
  if (event.outcome !== "started")
    throw new DemoError(`the Worker did not start a task (outcome "${event.outcome}")`, worker.logTail());
  timeline.step("📋", "task saved as started; from here on the cron follows it");
}

/** Runs the cron about once a second, as the real schedule would but faster, until the task ends. */
async function tickUntilDone(timeline: Timeline, worker: DevWorker, github: FakeGitHub): Promise<string> {
  const deadline = Date.now() + FLOW_TIMEOUT_MS;
  for (let tick = 1; Date.now() < deadline; tick++) {
    await sleep(TICK_INTERVAL_MS);
    timeline.step("⏰", timeline.dim(`cron tick #${tick}`));
    if (tick === 1) {
      // The draft pull request the scripted agent's final message names, opened during its run.
      github.pulls.set(42, {
        ref: "openhands/fix-leap-year",
        repository: `${THREAD.owner}/${THREAD.repo}`,
        baseRef: "master",
        title: "Fix the leap-year bug in parseDate",
        draft: true,
        createdAt: new Date().toISOString(),
      });
    }
    await worker.scheduled(CRON);
    const body = trackingComment(github);
    const outcome = outcomeOf(body);
    if (outcome === "succeeded") return body!;
    if (outcome === "failed") throw new DemoError("the task ended without success", `Tracking comment:\n${body}`);
  }
  throw new DemoError(
    `the task did not end within ${FLOW_TIMEOUT_MS / 1000} s`,
    `Tracking comment: ${trackingComment(github) ?? "(none)"}\n\nwrangler log (tail):\n${worker.logTail()}`,
  );
}

/** The App's newest comment on the thread, as the fake GitHub stores it. */
function trackingComment(github: FakeGitHub): string | undefined {
  return github
    .commentsOn(THREAD.owner, THREAD.repo, THREAD.number)
    .filter((c) => c.user.type === "Bot")
    .at(-1)?.body;
}

function outcomeOf(body: string | undefined): "succeeded" | "failed" | "pending" {
  if (!body) return "pending";
  if (body.startsWith("✅")) return "succeeded";
  // "could not start yet" is the queued notice: the Worker retries on its own, so keep ticking.
  if (body.includes("could not start yet")) return "pending";
  if (/could not|did not|^Sorry @/.test(body)) return "failed";
  return "pending";
}

/** What the fakes recorded over the whole run. */
function summarize(timeline: Timeline, { github, openhands }: Fakes): void {
  const reactions = github.reactions.map((r) => r.content).join(", ") || "none";
  timeline.step(
    "🏁",
    `done: ${github.requests.length} calls to GitHub (reactions: ${reactions}, comments: ${github.comments.size}), ` +
      `${openhands.requests.length} calls to OpenHands (${openhands.startTasks.size} start task, ${openhands.conversations.size} conversation)`,
  );
}

/** wrangler's state and log are only worth keeping when something went wrong. */
function removeWorkDir(): void {
  if (running.workDir) rmSync(running.workDir, { recursive: true, force: true });
}

/** Stops wrangler (and workerd with it) before the servers it talks to. */
async function shutdown(): Promise<void> {
  const { worker, servers } = running;
  running.worker = undefined;
  running.servers = [];
  await worker?.stop();
  await Promise.all(servers.map((server) => server.close()));
}

// Ctrl-C does not reach wrangler (it runs in its own process group), so stop it here.
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.once(signal, () => {
    running.interrupted = signal;
    console.error(`\n${signal}: stopping wrangler and the fake servers…`);
    void shutdown()
      .then(removeWorkDir)
      .finally(() => process.exit(code));
  });
}
// Last resort if the process ends some other way: nothing async runs here, so kill outright.
process.on("exit", () => running.worker?.killNow());

process.exitCode = await main();
