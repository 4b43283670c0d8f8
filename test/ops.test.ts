import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { WEBHOOK_COST_PER_TASK } from "../src/ops/status";
import { CRON_PERIOD_MS } from "../src/poller/cron-period";
import { UsageCounter } from "../src/usage";
import { json } from "./support/fakes/recorder";
import { callWorker, issueCommentPayload, recordingKv, runCron, signedWebhook, type TestEnv } from "./support/harness";
import { startWorld } from "./support/world";

const STATUS_TOKEN = "status-token-for-tests-5d1c0e7b9a";
const START = /^\/api\/v1\/app-conversations$/;

function get(path: string, testEnv: TestEnv, headers: Record<string, string> = {}): Promise<Response> {
  return callWorker(new Request(`https://worker.example${path}`, { headers }), testEnv);
}

/** Every secret the test env holds, and the token: none may appear in an answer. */
function expectNoSecret(text: string, extra: string[] = []): void {
  const secrets = [
    env.OPENHANDS_API_KEY,
    env.GITHUB_WEBHOOK_SECRET,
    // a line from the middle of each PEM body
    env.GITHUB_APP_PRIVATE_KEY.split("\n")[5]!,
    env.TEST_PRIVATE_KEY_PKCS8.split("\n")[5]!,
    STATUS_TOKEN,
    ...extra,
  ];
  for (const secret of secrets) expect(text).not.toContain(secret);
}

/** Records what is asked of KV, key by key, so a test can tell the status record from the rest. */
describe("GET /healthz", () => {
  it("answers 200 when the configuration is complete and KV answers, and names no secret", async () => {
    const { env: testEnv } = startWorld();
    const response = await get("/healthz", testEnv);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toEqual({
      ok: true,
      service: "openhands-github-app",
      checks: { config: "ok", kv: "ok" },
      triggers: {
        mention: null,
        label: null,
        mentionFrom: "the App's slug, not learnt yet (the next cron tick asks GitHub)",
        labelFrom: "the App's slug, not learnt yet (the next cron tick asks GitHub)",
      },
    });
    expectNoSecret(text);
  });

  it("names the mention and label from the App's slug once a cron tick has learnt it, without asking GitHub itself", async () => {
    const fakes = startWorld();
    await runCron(fakes.env);
    const asked = fakes.github.requests.length;
    const body = await (await get("/healthz", fakes.env)).json();
    expect(body).toMatchObject({
      ok: true,
      triggers: {
        mention: "@openhands-app",
        label: "openhands-app",
        mentionFrom: "the App's slug",
        labelFrom: "the App's slug",
      },
    });
    expect(body).not.toHaveProperty("warnings");
    expect(fakes.github.requests.length).toBe(asked);
  });

  it("warns when MENTION or LABEL is OpenHands' own App's: both Apps would start an agent", async () => {
    const { env: testEnv } = startWorld({ env: { MENTION: "@OpenHands", LABEL: "openhands" } });
    const response = await get("/healthz", testEnv);
    expect(response.status).toBe(200);
    const body = await response.json<Record<string, any>>();
    expect(body.triggers).toEqual({
      mention: "@OpenHands",
      label: "openhands",
      mentionFrom: "MENTION",
      labelFrom: "LABEL",
    });
    expect(body.warnings).toEqual([
      expect.stringMatching(
        /^the mention @OpenHands: OpenHands' own GitHub App .* answers it too: a requester with an OpenHands account gets two agents, two sets of pull requests and two bills/,
      ),
      expect.stringMatching(/^the label "openhands": OpenHands' own GitHub App/),
    ]);
  });

  it("answers 503 naming a MENTION or LABEL that GitHub could not have", async () => {
    const { env: testEnv } = startWorld({ env: { MENTION: "openhands", LABEL: "x".repeat(51) } });
    const response = await get("/healthz", testEnv);
    expect(response.status).toBe(503);
    expect((await response.json<Record<string, any>>()).problems).toEqual([
      "MENTION must look like @name",
      "LABEL must be a label name (at most 50 characters)",
    ]);
  });

  it("answers 503 naming OPENHANDS_API_KEY when it is empty", async () => {
    const { env: testEnv } = startWorld({ env: { OPENHANDS_API_KEY: "" } });
    const response = await get("/healthz", testEnv);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toEqual({
      ok: false,
      service: "openhands-github-app",
      checks: { config: "invalid", kv: "ok" },
      problems: ["OPENHANDS_API_KEY is not set"],
    });
    expectNoSecret(text);
  });

  it("answers 503 naming a malformed GITHUB_APP_PRIVATE_KEY, and never echoes what was pasted", async () => {
    const pasted = [
      "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7pasted-the-wrong-key operator@laptop",
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4\n-----END RSA PRIVATE KEY-----",
    ];
    const answers = [];
    for (const key of pasted) {
      const { env: testEnv } = startWorld({ env: { GITHUB_APP_PRIVATE_KEY: key } });
      const response = await get("/healthz", testEnv);
      const text = await response.text();
      expect(response.status).toBe(503);
      const body = JSON.parse(text);
      expect(body.ok).toBe(false);
      expect(body.problems).toHaveLength(1);
      expect(body.problems[0]).toMatch(
        /^GITHUB_APP_PRIVATE_KEY (is not a PEM private key|has a PEM header but its body is not valid base64)/,
      );
      expectNoSecret(text, ["AAAAB3NzaC1yc2E", "operator@laptop", "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4"]);
      answers.push(body.problems[0]);
    }
    expect(answers[0]).toContain("is not a PEM private key");
    expect(answers[1]).toContain("not valid base64");
  });

  it("answers 503 when KV fails a read, and when it does not answer within two seconds", async () => {
    const failing = new Proxy(env.TASKS, {
      get: (target, property) =>
        property === "get"
          ? () => Promise.reject(new Error(`KV GET failed: 503 for token ${env.OPENHANDS_API_KEY}`))
          : Reflect.get(target, property),
    });
    const { env: failingEnv } = startWorld({ env: { TASKS: failing } });
    const response = await get("/healthz", failingEnv);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toEqual({
      ok: false,
      service: "openhands-github-app",
      checks: { config: "ok", kv: "unavailable" },
      problems: ["KV namespace TASKS failed a read"],
    });
    expectNoSecret(text);

    const silent = new Proxy(env.TASKS, {
      get: (target, property) => (property === "get" ? () => new Promise(() => {}) : Reflect.get(target, property)),
    });
    const { env: silentEnv } = startWorld({ env: { TASKS: silent } });
    const slow = await get("/healthz", silentEnv);
    expect(slow.status).toBe(503);
    expect((await slow.json<{ problems: string[] }>()).problems).toEqual([
      "KV namespace TASKS did not answer a read within 2 s",
    ]);
  });

  it("stays ready with a STATUS_TOKEN too short to be safe, and says /status is off", async () => {
    const { env: testEnv } = startWorld({ env: { STATUS_TOKEN: "short-token" } });
    const response = await get("/healthz", testEnv);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      ok: true,
      warnings: ["STATUS_TOKEN must be at least 16 characters; GET /status is off until it is"],
    });
    expect((await get("/status", testEnv, { authorization: "Bearer short-token" })).status).toBe(404);
  });
});

describe("GET /status", () => {
  it("does not exist without STATUS_TOKEN: the same 404 as any unknown path", async () => {
    const { env: testEnv } = startWorld();
    const unknown = await get("/no-such-route", testEnv);
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${STATUS_TOKEN}` }];
    for (const headers of attempts) {
      const response = await get("/status", testEnv, headers);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe(await unknown.clone().text());
    }
  });

  it("answers 401 with the same bare body to a missing, malformed or wrong token", async () => {
    const { env: testEnv } = startWorld({ env: { STATUS_TOKEN } });
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "" },
      { authorization: "Bearer" },
      { authorization: "Bearer wrong" },
      { authorization: `Bearer ${STATUS_TOKEN}x` },
      { authorization: `Bearer ${STATUS_TOKEN.slice(0, -1)}` },
      { authorization: `Bearer ${STATUS_TOKEN.toUpperCase()}` },
      { authorization: STATUS_TOKEN },
      { authorization: `Basic ${btoa(`admin:${STATUS_TOKEN}`)}` },
      { authorization: `Bearer ${env.OPENHANDS_API_KEY}` },
    ];
    for (const headers of attempts) {
      const response = await get("/status", testEnv, headers);
      expect(response.status).toBe(401);
      expect(await response.text()).toBe('{"error":"unauthorized"}');
    }
  });

  it("reports pending tasks by state, the oldest one's age, the last errors, the last tick and the day's usage", async () => {
    // The first request starts and keeps running.
    const fakes = startWorld({ role: "admin", script: { execution: ["running"] }, env: { STATUS_TOKEN } });
    const first = issueCommentPayload("@openhands-app fix the leap years");
    expect((await fakes.deliver("issue_comment", first)).status).toBe(202);
    // The second, on another issue, meets an OpenHands outage whose answer quotes our key.
    fakes.openhands.failNext(
      "POST",
      START,
      () => json({ detail: `internal error for Bearer ${env.OPENHANDS_API_KEY}` }, 500),
      10,
    );
    const second = issueCommentPayload("@openhands-app and the time zones", { installationId: first.installation.id });
    second.issue.number = 2;
    second.comment.id += 1;
    expect((await fakes.deliver("issue_comment", second)).status).toBe(202);
    // The first tick saves; the next two, within thirty minutes of it, are held for a later save.
    for (let i = 0; i < 3; i++) await runCron(fakes.env);

    const response = await get("/status", fakes.env, { authorization: `Bearer ${STATUS_TOKEN}` });
    const text = await response.text();
    expect(response.status).toBe(200);
    const status = JSON.parse(text);
    expectNoSecret(text);

    expect(status.tasks).toEqual({
      pending: 2,
      // the running agent's record still says "starting": that step is not written to KV
      pendingByState: { queued: 1, starting: 1, running: 0, needs_input: 0 },
      received: 0,
      oldestPending: {
        task: expect.stringMatching(/^[0-9a-f]{32}$/),
        state: "starting",
        createdAt: expect.any(String),
        ageSeconds: expect.any(Number),
      },
    });
    expect(status.tasks.oldestPending.ageSeconds).toBeGreaterThanOrEqual(0);

    expect(status.lastErrors).toHaveLength(1);
    expect(status.lastErrors[0]).toEqual({
      task: expect.stringMatching(/^[0-9a-f]{32}$/),
      state: "queued",
      at: expect.any(String),
      error: expect.any(String),
    });
    expect(status.lastErrors[0].error).toMatch(/500/);
    expect(status.lastErrors[0].task).not.toBe(status.tasks.oldestPending.task);

    expect(status.cron.lastRecordedTick).toEqual({
      at: expect.any(String),
      report: {
        listed: true,
        pending: 2,
        advanced: expect.any(Number),
        ended: 0,
        deferred: expect.any(Number),
        subrequests: expect.any(Number),
      },
    });
    expect(Date.parse(status.cron.lastRecordedTick.at)).toBeLessThanOrEqual(Date.parse(status.at));

    const { usage } = status;
    expect(usage.limits).toEqual({ kvReads: 100_000, kvWrites: 1_000, kvDeletes: 1_000, kvLists: 1_000 });
    expect(usage.day).toBe(new Date().toISOString().slice(0, 10));
    // The tick that saved: it read the marker, listed the tasks, read them, and asked OpenHands
    // (the App's owner was learnt by the webhook).
    expect(usage.cronCounted).toEqual({
      ticks: 1,
      kvReads: expect.any(Number),
      kvWrites: expect.any(Number),
      kvDeletes: 0,
      kvLists: 1,
      githubRequests: expect.any(Number),
      openhandsRequests: expect.any(Number),
    });
    expect(usage.cronCounted.kvReads).toBeGreaterThanOrEqual(3);
    expect(usage.cronCounted.kvWrites).toBeGreaterThan(0);
    expect(usage.cronCounted.openhandsRequests).toBeGreaterThan(0);
    expect(usage.webhookEstimated).toEqual({
      tasks: 2,
      ...Object.fromEntries(Object.entries(WEBHOOK_COST_PER_TASK).map(([k, v]) => [k, 2 * v])),
    });
    expect(usage.total.kvLists).toBe(usage.cronCounted.kvLists + usage.webhookEstimated.kvLists);
    expect(usage.percentOfLimit.kvLists).toBeCloseTo((usage.total.kvLists / 1000) * 100, 1);
    expect(usage.previousDay).toMatchObject({ day: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10) });
  });

  it("costs no KV write on an idle tick, and at most one status write per thirty minutes while busy", async () => {
    const fakes = startWorld({ role: "admin", script: { execution: ["running"] }, env: { STATUS_TOKEN } });
    const { calls, env: testEnv } = recordingKv(fakes.env);
    const t0 = Date.now();
    const at = (minutes: number) => new Date(t0 + minutes * 60_000);

    // The first tick learns the App's owner and the agent's account: work, so it saves.
    await runCron(testEnv, at(0));
    expect(calls.filter((c) => c.startsWith("put"))).toEqual([
      "put app:identity",
      "put agent:login",
      "put status:cron",
    ]);

    // Idle (and not the hourly sweep): the activity marker alone, as without STATUS_TOKEN (test/poll-cost.test.ts).
    let idle = 2;
    while (at(idle).getTime() % 3_600_000 < CRON_PERIOD_MS) idle++;
    const before = calls.length;
    await runCron(testEnv, at(idle));
    expect(calls.slice(before)).toEqual(["get poll:active"]);

    const beforeWebhook = calls.length;
    await callWorker(await signedWebhook("issue_comment", issueCommentPayload("@openhands-app go")), testEnv);
    calls.splice(beforeWebhook); // only the cron's calls are kept below
    // Busy ticks within thirty minutes of the last save hold their counts in memory.
    for (const minutes of [5, 8, 20, 29]) await runCron(testEnv, at(minutes));
    const saves = ["get status:cron", "put status:cron"];
    expect(calls.filter((c) => c.endsWith("status:cron"))).toEqual(saves);
    await runCron(testEnv, at(32));
    expect(calls.filter((c) => c.endsWith("status:cron"))).toEqual([...saves, ...saves]);

    // Every tick and every KV call of the cron is in the record, but the save's own read and write (kept for the next save).
    const record = JSON.parse((await fakes.env.TASKS.get("status:cron"))!);
    const days = Object.values(record.days) as Record<string, number>[];
    const sum = (field: string) => days.reduce((n, d) => n + d[field]!, 0);
    const made = (operation: string) => calls.filter((c) => c.split(" ")[0] === operation).length;
    expect(sum("ticks")).toBe(7);
    expect(sum("kvLists")).toBe(made("list"));
    expect(sum("kvWrites")).toBe(made("put") - 1);
    expect(sum("kvDeletes")).toBe(made("delete"));
    expect(sum("kvReads")).toBe(made("get") + made("getWithMetadata") - 1);
  });

  it("estimates a request's webhook cost as one request measures it", async () => {
    const fakes = startWorld({ role: "admin" });
    await runCron(fakes.env); // the App's owner and the agent's account, known from now on
    fakes.github.requests.length = 0;
    fakes.openhands.requests.length = 0;
    // The same counting proxy the Worker puts around its own binding.
    const counter = new UsageCounter();
    const counted = { ...fakes.env, TASKS: counter.kv(fakes.env.TASKS) };
    expect(
      (await callWorker(await signedWebhook("issue_comment", issueCommentPayload("@openhands-app go")), counted))
        .status,
    ).toBe(202);
    expect({
      ...counter.take(),
      githubRequests: fakes.github.requests.length,
      openhandsRequests: fakes.openhands.requests.length,
    }).toEqual(WEBHOOK_COST_PER_TASK);
  });
});
