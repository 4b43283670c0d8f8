import { describe, expect, it } from "vitest";
import { CRON_PERIOD_MS } from "../src/poller/cron-period";
import { callWorker, issueCommentPayload, recordingKv, runCron, signedWebhook, type TestEnv } from "./support/harness";
import { startWorld } from "./support/world";

/** Counts what the Worker asks of KV: the Free plan's scarce resources are lists and writes. */
function countingKv(env: TestEnv) {
  const { calls, env: counted } = recordingKv(env);
  const count = (op: string) => calls.filter((call) => call === op || call.startsWith(`${op} `)).length;
  const counts = () => ({ get: count("get"), list: count("list"), put: count("put"), delete: count("delete") });
  const reset = () => {
    calls.length = 0;
  };
  return { counts, reset, env: counted };
}

/** A tick time at least `minutes` from now that is not the hourly sweep. */
function quietTickIn(minutes: number): Date {
  const at = new Date(Date.now() + minutes * 60_000);
  // The sweep runs on the ticks of each hour's first cron period (src/index.ts isSweepTick).
  if (at.getTime() % 3_600_000 < CRON_PERIOD_MS) at.setTime(at.getTime() - (at.getTime() % 3_600_000) + CRON_PERIOD_MS);
  return at;
}

describe("what the cron costs", () => {
  it("an idle tick makes one KV read, no list, no write, no upstream call, once the App's owner is known", async () => {
    const fakes = startWorld();
    const { counts, reset, env } = countingKv(fakes.env);
    // Once a day: which account the App serves (GET /app with the App's JWT) and which one
    // the agent writes as (OpenHands' git-info), kept in KV.
    await runCron(env, new Date("2026-11-25T10:12:00Z"));
    expect(fakes.github.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /app"]);
    expect(fakes.openhands.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/v1/users/git-info"]);
    expect(counts().put).toBe(2);
    reset();
    fakes.github.requests.length = 0;
    fakes.openhands.requests.length = 0;

    await runCron(env, new Date("2026-11-25T10:14:00Z"));
    expect(counts()).toEqual({ get: 1, list: 0, put: 0, delete: 0 });
    expect(fakes.github.requests).toEqual([]);
    expect(fakes.openhands.requests).toEqual([]);
  });

  it("once an hour it lists anyway, in case the activity marker was lost", async () => {
    const fakes = startWorld();
    const { counts, env } = countingKv(fakes.env);
    await runCron(env, new Date(Date.UTC(2030, 0, 1, 10, 0)));
    expect(counts().list).toBe(1);
    // the App's owner and the agent's account, learnt on this first tick; nothing else
    expect(counts().put).toBe(2);
  });

  it("a task costs five KV writes from comment to result (plus the config cache, and the received record on a repository not seen for ten minutes), and the marker runs out by itself", async () => {
    const fakes = startWorld({ role: "admin" });
    const { counts, env } = countingKv(fakes.env);
    await callWorker(await signedWebhook("issue_comment", issueCommentPayload("@openhands-app go")), env);
    for (let i = 0; i < 3; i++) await runCron(env, quietTickIn(0));
    // the received event (its repository's config unknown yet), the App's owner and the
    // agent's account (once a day), queued, activity marker, starting, succeeded, the thread's
    // last conversation (for the next request to go on with), and the repository config cache;
    // "running" is not written (every tick reads the conversation)
    expect(counts().put).toBe(9);
    // the received event, once it became a task
    expect(counts().delete).toBe(1);
    // one in the webhook (limits), one per tick
    expect(counts().list).toBe(4);

    // The marker carries a KV expiration two hours after the request, and nothing deletes it.
    const marker = (await env.TASKS.list({ prefix: "poll:" })).keys;
    expect(marker).toHaveLength(1);
    expect(marker[0]!.expiration! * 1000 - Date.now()).toBeGreaterThan(119 * 60_000);
    expect(marker[0]!.expiration! * 1000 - Date.now()).toBeLessThanOrEqual(120 * 60_000);
    const before = counts();
    await runCron(env, quietTickIn(11));
    // a quiet tick while it lasts: one read and one list, no write, no delete
    expect(counts().put - before.put).toBe(0);
    expect(counts().delete - before.delete).toBe(0);
    expect(counts().list - before.list).toBe(1);
  });

  it("the marker is written at most once an hour however many tasks arrive, and kept while tasks are pending", async () => {
    const fakes = startWorld({ role: "admin", script: { execution: ["running"] } });
    const { puts, env } = recordingKv(fakes.env);
    const markerWrites = () => puts.filter((p) => p.key === "poll:active").map((p) => p.options?.expirationTtl);
    for (let i = 0; i < 5; i++) {
      const payload = issueCommentPayload(`@openhands-app task ${i}`);
      payload.issue.number = 100 + i;
      payload.comment.id += i;
      expect((await callWorker(await signedWebhook("issue_comment", payload), env)).status).toBe(202);
    }
    expect(markerWrites()).toEqual([7200]);
    // 50 minutes on, still more than an hour left: the cron leaves it alone
    await runCron(env, quietTickIn(50));
    expect(markerWrites()).toEqual([7200]);
    // 70 minutes on, tasks still pending: renewed once, for another two hours
    await runCron(env, quietTickIn(70));
    await runCron(env, quietTickIn(73));
    expect(markerWrites()).toEqual([7200, 7200]);
  });
});
