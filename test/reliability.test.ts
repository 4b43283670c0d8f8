import { describe, expect, it } from "vitest";
import { json } from "./support/fakes/recorder";
import {
  callWorker,
  effectfulGitHubCalls,
  issueCommentPayload,
  kvSnapshot,
  openHandsWork,
  runCron,
  signedWebhook,
  type TestEnv,
} from "./support/harness";
import { startWorld, type World } from "./support/world";

type Fakes = World;

async function deliver(fakes: Fakes, payload: Record<string, any>, env: TestEnv = fakes.env) {
  return callWorker(await signedWebhook("issue_comment", payload), env);
}

describe("no duplicate conversation", () => {
  it("a redelivery after the task ended starts nothing and posts nothing", async () => {
    const fakes = startWorld();
    const payload = issueCommentPayload("@openhands-app fix it");
    await deliver(fakes, payload);
    for (let i = 0; i < 3; i++) await runCron(fakes.env);
    expect((await fakes.tasks())[0]!.status).toBe("succeeded");
    const requests = fakes.github.requests.length + fakes.openhands.requests.length;

    const again = await deliver(fakes, structuredClone(payload));
    expect(await again.json()).toMatchObject({ ok: true, duplicate: expect.any(String), status: "succeeded" });
    expect(fakes.github.requests.length + fakes.openhands.requests.length).toBe(requests);
  });

  it("a delivery replayed after its ended task's record expired (a day) finds the conversation, and shows nothing on GitHub", async () => {
    const fakes = startWorld();
    // Made 25 hours ago and delivered now (GitHub retries, or an operator redelivers): old enough
    // that an earlier delivery's ended record could have expired, so OpenHands is asked.
    const payload = issueCommentPayload("@openhands-app fix it");
    const madeAt = new Date(Date.now() - 25 * 3600_000).toISOString();
    payload.comment.created_at = madeAt;
    payload.comment.updated_at = madeAt;
    const send = async () => callWorker(await signedWebhook("issue_comment", payload, { keepTimes: true }), fakes.env);
    await send();
    expect(fakes.openhands.find("GET", /start-tasks\/search$/).map((r) => r.query.get("conversation_id__eq"))).toEqual([
      expect.stringMatching(/^[0-9a-f]{32}$/),
    ]);
    for (let i = 0; i < 3; i++) await runCron(fakes.env);
    const [ended] = await fakes.tasks();
    expect(ended!.status).toBe("succeeded");
    // A day later: the record has expired; the conversation, started then, is still on OpenHands.
    const entry = (await kvSnapshot(fakes.env)).find((e) => e.name.startsWith("task:"))!;
    await fakes.env.TASKS.delete(entry.name);
    for (const startTask of fakes.openhands.startTasks.values()) {
      startTask.createdMs -= 25 * 3600_000;
      startTask.createdAt = new Date(startTask.createdMs).toISOString();
    }
    const github = fakes.github.requests.length;
    const starts = fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/).length;

    expect((await send()).status).toBe(202);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(starts);
    expect(fakes.github.requests.slice(github).filter((r) => r.method !== "GET")).toEqual([]);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 1)).toHaveLength(1);
    expect(await fakes.tasks()).toEqual([]);
    expect(await fakes.received()).toEqual([]);
    // and the cron finds nothing left to do
    await runCron(fakes.env);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(starts);
  });

  it("a request made moments ago costs no replay read: its own record would have answered", async () => {
    const fakes = startWorld();
    await deliver(fakes, issueCommentPayload("@openhands-app fix it"));
    expect(fakes.openhands.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/v1/app-conversations"]);
  });

  it("a duplicate that races past KV (eventual consistency) adopts the running conversation", async () => {
    const fakes = startWorld();
    const payload = issueCommentPayload("@openhands-app fix it");
    await deliver(fakes, payload);
    // Another location has not seen the record yet: to it, the task does not exist.
    const [first] = await kvSnapshot(fakes.env).then((all) => all.filter((e) => e.name.startsWith("task:")));
    await fakes.env.TASKS.delete(first!.name);
    await deliver(fakes, structuredClone(payload));

    // The service does not refuse the second start: it stays WORKING behind the first
    // (a sandbox row with that id exists), while the first goes on in the background.
    for (let i = 0; i < 6; i++) {
      fakes.openhands.advanceStarts();
      await runCron(fakes.env);
    }
    const [task] = await fakes.tasks();
    expect(task!.status).toBe("succeeded");
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(2);
    // one agent, one comment
    expect(fakes.openhands.conversations.size).toBe(1);
    expect([...fakes.openhands.conversations.values()][0]!.agentStarts).toBe(1);
    const comments = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("OpenHands finished");
  });
});

describe("no lost task", () => {
  it("if KV cannot record the request, GitHub gets a 503 so the delivery can be redelivered", async () => {
    const fakes = startWorld();
    const failingKv = {
      ...fakes.env.TASKS,
      get: fakes.env.TASKS.get.bind(fakes.env.TASKS),
      put: async () => {
        throw new Error("KV PUT failed: 503");
      },
    } as unknown as KVNamespace;
    const response = await deliver(fakes, issueCommentPayload("@openhands-app fix it"), {
      ...fakes.env,
      TASKS: failingKv,
    });
    expect(response.status).toBe(503);
    expect(fakes.openhands.requests).toEqual([]);
    expect(effectfulGitHubCalls(fakes.github)).toEqual([]);
  });

  it("a crash between posting the result and recording it still ends with one result", async () => {
    const fakes = startWorld();
    await deliver(fakes, issueCommentPayload("@openhands-app fix it"));
    await runCron(fakes.env); // READY, running
    // The next save of a final status fails, as if the Worker died right after the edit.
    let failed = false;
    const kv = fakes.env.TASKS;
    const flaky = {
      get: kv.get.bind(kv),
      list: kv.list.bind(kv),
      delete: kv.delete.bind(kv),
      put: async (key: string, value: string, options?: KVNamespacePutOptions) => {
        if (!failed && (options?.metadata as { s?: string } | undefined)?.s === "succeeded") {
          failed = true;
          throw new Error("KV PUT failed");
        }
        return kv.put(key, value, options);
      },
    } as unknown as KVNamespace;
    await runCron({ ...fakes.env, TASKS: flaky });
    expect(failed).toBe(true);
    expect((await fakes.tasks())[0]!.status).toBe("starting"); // running, as the record leaves it
    await runCron(fakes.env);
    expect((await fakes.tasks())[0]!.status).toBe("succeeded");
    const comments = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("OpenHands finished");
  });

  it("a start that keeps failing ends, after START_MAX_ATTEMPTS, with a comment saying so", async () => {
    const fakes = startWorld({ env: { START_MAX_ATTEMPTS: "3" } });
    fakes.openhands.failNext(
      "POST",
      /^\/api\/v1\/app-conversations$/,
      () => json({ detail: "Service Unavailable" }, 503),
      10,
    );
    await deliver(fakes, issueCommentPayload("@openhands-app fix it"));
    for (let tick = 1; tick <= 6; tick++) await runCron(fakes.env, new Date(Date.now() + tick * 10 * 60_000));
    const [task] = await fakes.tasks();
    expect(task).toMatchObject({ status: "failed", attempts: 3 });
    const [comment] = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(comment!.body).toContain("could not be started after 3 attempts");
    expect(comment!.body).toContain("Service Unavailable");
    expect(fakes.openhands.startTasks.size).toBe(0);
  });

  it("a daily quota 429 waits until the quota resets", async () => {
    const fakes = startWorld();
    const resetAt = new Date(Date.now() + 5 * 3600_000).toISOString();
    fakes.openhands.failNext("POST", /^\/api\/v1\/app-conversations$/, () =>
      json(
        {
          detail: {
            code: "daily_conversation_limit_reached",
            message: "Daily conversation limit of 50 reached.",
            limit: 50,
            used: 50,
            reset_at: resetAt,
          },
        },
        429,
      ),
    );
    await deliver(fakes, issueCommentPayload("@openhands-app fix it"));
    const [task] = await fakes.tasks();
    expect(task!.status).toBe("queued");
    expect(task!.nextAttemptAt).toBe(resetAt);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 1)[0]!.body).toContain(
      "Daily conversation limit of 50 reached.",
    );
  });

  it("a thread that was deleted drops its task cleanly", async () => {
    const fakes = startWorld();
    fakes.github.failNext(
      "POST",
      /\/issues\/1\/comments$/,
      () => json({ message: "Not Found", status: "404" }, 404),
      5,
    );
    await deliver(fakes, issueCommentPayload("@openhands-app fix it"));
    const [task] = await fakes.tasks();
    expect(task!.status).toBe("failed");
    expect(task!.outcome!.summary).toBe("thread is gone");
    // nothing asked of OpenHands (a new request needs no replay read)
    expect(fakes.openhands.requests).toEqual([]);
    const before = openHandsWork(fakes.openhands).length;
    await runCron(fakes.env, new Date(Date.now() + 10 * 60_000));
    expect(openHandsWork(fakes.openhands)).toHaveLength(before);
  });
});

describe("concurrency cap", () => {
  it("beyond MAX_RUNNING_CONVERSATIONS, requests wait in the queue, say so, and start when a slot frees", async () => {
    const fakes = startWorld({ env: { MAX_RUNNING_CONVERSATIONS: "1" } });
    const first = issueCommentPayload("@openhands-app first");
    const second = issueCommentPayload("@openhands-app second");
    second.issue.number = 2;
    second.comment.id += 1;
    await deliver(fakes, first);
    await deliver(fakes, second);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
    const waiting = fakes.github.commentsOn("Codertocat", "Hello-World", 2);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.body).toContain("waiting for a free slot: 1 conversations are running (limit 1)");

    for (let tick = 1; tick <= 8; tick++) await runCron(fakes.env, new Date(Date.now() + tick * 3 * 60_000));
    const all = await fakes.tasks();
    expect(all.map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
    expect(await fakes.received()).toEqual([]);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(2);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 2)).toHaveLength(1);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 2)[0]!.body).toContain("OpenHands finished");
  });
});

describe("no loops", () => {
  it("at most MAX_STARTS_PER_THREAD_PER_HOUR starts on a thread; the rest wait, say until when, and still get their result", async () => {
    const fakes = startWorld({ env: { MAX_STARTS_PER_THREAD_PER_HOUR: "2", MAX_RUNNING_CONVERSATIONS: "10" } });
    const installationId = 7_777_001;
    const start = Date.now();
    const at = (minutes: number) => new Date(start + minutes * 60_000);
    // one request after another, each once the previous one has ended
    for (let i = 0; i < 3; i++) {
      const payload = issueCommentPayload(`@openhands-app attempt ${i}`, { installationId });
      payload.comment.id += 10 + i;
      await deliver(fakes, payload);
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

  it("a comment carrying the App's own marker is ignored even from a human account", async () => {
    const fakes = startWorld();
    const response = await deliver(
      fakes,
      issueCommentPayload("@openhands-app quoted\n<!-- openhands-github-app task:abc -->"),
    );
    expect(response.status).toBe(202);
    expect(effectfulGitHubCalls(fakes.github)).toEqual([]);
    expect(await fakes.tasks()).toEqual([]);
    expect(await fakes.received()).toEqual([]);
  });
});
