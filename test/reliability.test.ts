import { describe, expect, it } from "vitest";
import { json } from "./support/fakes/recorder";
import {
  callWorker,
  effectfulGitHubCalls,
  issueCommentPayload,
  openHandsWork,
  runCron,
  signedWebhook,
} from "./support/harness";
import { startWorld } from "./support/world";

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
    const response = await callWorker(
      await signedWebhook("issue_comment", issueCommentPayload("@openhands-app fix it")),
      {
        ...fakes.env,
        TASKS: failingKv,
      },
    );
    expect(response.status).toBe(503);
    expect(fakes.openhands.requests).toEqual([]);
    expect(effectfulGitHubCalls(fakes.github)).toEqual([]);
  });

  it("a crash between posting the result and recording it still ends with one result", async () => {
    const fakes = startWorld();
    await fakes.deliver("issue_comment", issueCommentPayload("@openhands-app fix it"));
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
    await fakes.deliver("issue_comment", issueCommentPayload("@openhands-app fix it"));
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
    await fakes.deliver("issue_comment", issueCommentPayload("@openhands-app fix it"));
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
    await fakes.deliver("issue_comment", issueCommentPayload("@openhands-app fix it"));
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
    const response = await fakes.deliver(
      "issue_comment",
      issueCommentPayload("@openhands-app quoted\n<!-- openhands-github-app task:abc -->"),
    );
    expect(response.status).toBe(202);
    expect(effectfulGitHubCalls(fakes.github)).toEqual([]);
    expect(await fakes.tasks()).toEqual([]);
    expect(await fakes.received()).toEqual([]);
  });
});
