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

describe("no loops", () => {
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
