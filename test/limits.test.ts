import { describe, expect, it } from "vitest";
import { checkLimits } from "../src/start/limits";
import type { TaskEntry } from "../src/tasks/store";
import {
  callWorker,
  examplePayloads,
  issueCommentPayload,
  kvSnapshot,
  runCron,
  signedWebhook,
} from "./support/harness";
import { startWorld } from "./support/world";

// The pure check behind the limits: whether a request may start now, from the task index alone.
const HOUR = 3600_000;
const config = { maxRunning: 2, maxStartsPerThreadPerHour: 2, maxStartsPerInstallationPerHour: 3 };
const NOW = Date.parse("2026-11-26T12:00:00Z");

function entry(id: string, fields: Partial<TaskEntry> = {}): TaskEntry {
  return { id, status: "succeeded", createdMs: NOW - 10 * 60_000, thread: "o/r#1", installationId: 1, ...fields };
}
const self = { id: "self", thread: "o/r#1", installationId: 1, createdMs: NOW };

describe("checkLimits", () => {
  it("counts conversations started in the last hour, not requests made", () => {
    const waited = [
      entry("a", { status: "queued" }),
      entry("b", { status: "queued" }),
      entry("c", { status: "queued" }),
    ];
    expect(checkLimits(waited, self, NOW, config)).toEqual({ kind: "go" });
  });

  it("over the thread limit: wait until the oldest counted start leaves the hour", () => {
    const started = [entry("a", { startedMs: NOW - 50 * 60_000 }), entry("b", { startedMs: NOW - 20 * 60_000 })];
    expect(checkLimits(started, self, NOW, config)).toEqual({
      kind: "over_limit",
      scope: "thread",
      limit: 2,
      retryAt: new Date(NOW - 50 * 60_000 + HOUR),
    });
    // an hour later, one of them no longer counts
    expect(checkLimits(started, self, NOW + 11 * 60_000, config)).toEqual({ kind: "go" });
  });

  it("over the installation limit, across threads", () => {
    const started = ["a", "b", "c", "d"].map((id, i) =>
      entry(id, { thread: `o/r#${10 + i}`, startedMs: NOW - (40 - i) * 60_000 }),
    );
    // the fourth-newest start must leave before one more fits under 3
    expect(checkLimits(started, self, NOW, config)).toMatchObject({
      kind: "over_limit",
      scope: "installation",
      retryAt: new Date(NOW - 39 * 60_000 + HOUR),
    });
  });

  it("fresh requests recorded just before this one take the free slots first", () => {
    const burst = [
      entry("a", { status: "queued", createdMs: NOW - 1000, thread: "o/r#5" }),
      entry("b", { status: "queued", createdMs: NOW - 500, thread: "o/r#6" }),
    ];
    expect(checkLimits(burst, self, NOW, config)).toEqual({ kind: "wait_for_slot", running: 0 });
    // newer ones, or ones long queued (backing off, waiting on a thread), do not
    const others = [
      entry("c", { status: "queued", createdMs: NOW + 10, thread: "o/r#5" }),
      entry("d", { status: "queued", createdMs: NOW - 30 * 60_000, thread: "o/r#6" }),
    ];
    expect(checkLimits(others, self, NOW, config)).toEqual({ kind: "go" });
  });

  it("a free slot is needed once the limits allow", () => {
    const running = [
      entry("a", { status: "running", thread: "o/r#2", installationId: 2 }),
      entry("b", { status: "starting", thread: "o/r#3", installationId: 2 }),
    ];
    expect(checkLimits(running, self, NOW, config)).toEqual({ kind: "wait_for_slot", running: 2 });
  });
});

describe("a maintainer labels 40 issues at once, with default settings", () => {
  it("every issue gets exactly one result; never more than MAX_RUNNING_CONVERSATIONS run at a time", {
    timeout: 120_000,
  }, async () => {
    const fakes = startWorld();
    const installationId = 8_100_000;
    const label = async (i: number) => {
      const payload = examplePayloads("issues").find((p) => p.action === "labeled")!;
      payload.installation = { id: installationId, node_id: "x" };
      payload.label = { ...payload.label, name: "openhands-app" };
      payload.issue.number = 100 + i;
      payload.issue.id = 9_000_000 + i;
      return (await callWorker(await signedWebhook("issues", payload), fakes.env)).status;
    };
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => label(i)));
    expect(statuses.every((s) => s === 202)).toBe(true);

    let maxActive = 0;
    let ended = 0;
    for (let tick = 1; tick <= 80 && ended < 40; tick++) {
      await runCron(fakes.env, new Date(Date.now() + tick * 2 * 60_000));
      const states = (await kvSnapshot(fakes.env))
        .filter((e) => e.name.startsWith("task:"))
        .map((e) => (e.metadata as { s: string }).s);
      maxActive = Math.max(maxActive, states.filter((s) => ["starting", "running", "needs_input"].includes(s)).length);
      ended = states.filter((s) => s === "succeeded").length;
    }
    expect(ended).toBe(40);
    expect(maxActive).toBeLessThanOrEqual(8);
    expect(maxActive).toBeGreaterThan(1);
    for (let i = 0; i < 40; i++) {
      const thread = fakes.github.commentsOn("Codertocat", "Hello-World", 100 + i);
      expect(thread).toHaveLength(1);
      expect(thread[0]!.body).toContain("OpenHands finished");
    }
    expect(fakes.openhands.startTasks.size).toBe(40);
  });
});

describe("concurrency cap", () => {
  it("beyond MAX_RUNNING_CONVERSATIONS, requests wait in the queue, say so, and start when a slot frees", async () => {
    const fakes = startWorld({ env: { MAX_RUNNING_CONVERSATIONS: "1" } });
    const first = issueCommentPayload("@openhands-app first");
    const second = issueCommentPayload("@openhands-app second");
    second.issue.number = 2;
    second.comment.id += 1;
    await fakes.deliver("issue_comment", first);
    await fakes.deliver("issue_comment", second);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
    const waiting = fakes.github.commentsOn("Codertocat", "Hello-World", 2);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.body).toContain("waiting for a free slot: 1 conversation is running, and the limit is 1");

    for (let tick = 1; tick <= 8; tick++) await runCron(fakes.env, new Date(Date.now() + tick * 3 * 60_000));
    const all = await fakes.tasks();
    expect(all.map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
    expect(await fakes.received()).toEqual([]);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(2);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 2)).toHaveLength(1);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 2)[0]!.body).toContain("OpenHands finished");
  });
});

describe("hourly limits", () => {
  it("at most MAX_STARTS_PER_THREAD_PER_HOUR starts on a thread; the rest wait, say until when, and still get their result", async () => {
    const fakes = startWorld({ env: { MAX_STARTS_PER_THREAD_PER_HOUR: "2", MAX_RUNNING_CONVERSATIONS: "10" } });
    const installationId = 7_777_001;
    const start = Date.now();
    const at = (minutes: number) => new Date(start + minutes * 60_000);
    // one request after another, each once the previous one has ended, each in a conversation of its own
    for (let i = 0; i < 3; i++) {
      const payload = issueCommentPayload(`@openhands-app new attempt ${i}`, { installationId });
      payload.comment.id += 10 + i;
      await fakes.deliver("issue_comment", payload);
      for (let tick = 1; tick <= 3; tick++) await runCron(fakes.env, at(10 * i + tick));
    }
    // two started and ended; the third is over the limit and waits in the queue, saying until when
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(2);
    const third = (await fakes.tasks()).find((t) => t.request.request === "attempt 2")!;
    expect(third).toMatchObject({
      status: "queued",
      lastError: "2 conversations were started on this thread in the last hour, which is the limit",
    });
    const firstStart = Math.min(
      ...(await fakes.tasks()).filter((t) => t.startedAt).map((t) => Date.parse(t.startedAt!)),
    );
    expect(Date.parse(third.nextAttemptAt!)).toBe(firstStart + 3600_000);
    const notice = fakes.github
      .commentsOn("Codertocat", "Hello-World", 1)
      .find((c) => c.id === third.trackingCommentId)!;
    expect(notice.body).toContain("which is the limit). The request is queued and will be retried automatically after");

    // an hour after the first start, it starts, and its requester gets the result
    for (let tick = 0; tick < 4; tick++) await runCron(fakes.env, at(61 + 2 * tick));
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(3);
    const all = await fakes.tasks();
    expect(all.map((t) => t.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(await fakes.received()).toEqual([]);
    expect(
      fakes.github.commentsOn("Codertocat", "Hello-World", 1).filter((c) => c.body.includes("OpenHands finished")),
    ).toHaveLength(3);
  });
});
