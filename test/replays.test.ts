import { beforeEach, describe, expect, it } from "vitest";
import { FakeOpenHands } from "./support/fakes/openhands";
import {
  callWorker,
  callWorkerWithoutWaiting,
  issueCommentPayload,
  kvSnapshot,
  runCron,
  signedWebhook,
  taskKeys,
} from "./support/harness";
import { commentOn } from "./support/webhook";
import { quickScript, startWorld, type World } from "./support/world";

/**
 * Replays: one request is answered once, however often GitHub delivers it, whoever captures and
 * sends it again, and however its deliveries and the cron's ticks overlap.
 */
type Fakes = World;

const starts = (fakes: Fakes) => fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/);

describe("no duplicate conversation", () => {
  it("a redelivery after the task ended starts nothing and posts nothing", async () => {
    const fakes = startWorld();
    const payload = issueCommentPayload("@openhands-app fix it");
    await fakes.deliver("issue_comment", payload);
    for (let i = 0; i < 3; i++) await runCron(fakes.env);
    expect((await fakes.tasks())[0]!.status).toBe("succeeded");
    const requests = fakes.github.requests.length + fakes.openhands.requests.length;

    const again = await fakes.deliver("issue_comment", structuredClone(payload));
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
    await fakes.deliver("issue_comment", issueCommentPayload("@openhands-app fix it"));
    expect(fakes.openhands.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/v1/app-conversations"]);
  });

  it("a duplicate that races past KV (eventual consistency) adopts the running conversation", async () => {
    const fakes = startWorld();
    const payload = issueCommentPayload("@openhands-app fix it");
    await fakes.deliver("issue_comment", payload);
    // Another location has not seen the record yet: to it, the task does not exist.
    const [first] = await kvSnapshot(fakes.env).then((all) => all.filter((e) => e.name.startsWith("task:")));
    await fakes.env.TASKS.delete(first!.name);
    await fakes.deliver("issue_comment", structuredClone(payload));

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

describe("exactly once", () => {
  let world: World;
  beforeEach(() => {
    world = startWorld({ role: "maintain", script: FakeOpenHands.defaultScript() });
  });

  it("two overlapping cron runs post one result", async () => {
    world.openhands.nextScript = quickScript({ execution: ["finished"] });
    await world.comment("@openhands-app fix it");
    await Promise.all([runCron(world.env), runCron(world.env)]);
    await Promise.all([runCron(world.env), runCron(world.env)]);
    expect(world.comments()).toHaveLength(1);
    expect(world.github.find("POST", /\/issues\/1\/comments$/)).toHaveLength(1);
    expect(world.comments()[0]!.body).toContain("OpenHands finished");
    expect((await world.tasks())[0]!.status).toBe("succeeded");
  });

  it("the same delivery twice starts one conversation", async () => {
    const payload = issueCommentPayload("@openhands-app fix it");
    const request = await signedWebhook("issue_comment", payload, { delivery: "same-delivery" });
    await callWorker(request.clone(), world.env);
    await callWorker(request, world.env);
    expect(world.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
    expect(world.comments()).toHaveLength(1);
  });
});

describe("replays of a captured signed delivery", () => {
  it("a request made more than seven days before it arrives is refused; a recent redelivery still works", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "write");
    await runCron(fakes.env);
    const old = commentOn("Codertocat", "Hello-World", "Codertocat");
    old.comment.created_at = new Date(Date.now() - 8 * 24 * 3600_000).toISOString();
    const request = await signedWebhook("issue_comment", old, { keepTimes: true });
    await callWorker(request.clone(), fakes.env);
    expect(starts(fakes)).toEqual([]);
    expect(await taskKeys(fakes.env)).toEqual([]);
    // once the repository's config is known, the answer says why at once
    expect(await (await callWorker(request, fakes.env)).json()).toMatchObject({
      ignored: "the request was made more than seven days before it arrived",
    });

    const recent = commentOn("Codertocat", "Hello-World", "Codertocat");
    recent.comment.id += 1;
    recent.comment.created_at = new Date(Date.now() - 6 * 24 * 3600_000).toISOString();
    expect(
      (await callWorker(await signedWebhook("issue_comment", recent, { keepTimes: true }), fakes.env)).status,
    ).toBe(202);
    expect(starts(fakes)).toHaveLength(1);
  });

  it("a command made more than a day before it arrives is refused: its record is gone, so a replay would act again", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "write");
    await runCron(fakes.env);
    const running = commentOn("Codertocat", "Hello-World", "Codertocat");
    running.comment.body = "@openhands-app fix the bug";
    await callWorker(await signedWebhook("issue_comment", running), fakes.env);
    expect(starts(fakes)).toHaveLength(1);

    const stop = commentOn("Codertocat", "Hello-World", "Codertocat");
    stop.comment.id += 1;
    stop.comment.body = "@openhands-app stop";
    stop.comment.created_at = new Date(Date.now() - 2 * 24 * 3600_000).toISOString();
    const response = await callWorker(await signedWebhook("issue_comment", stop, { keepTimes: true }), fakes.env);
    await runCron(fakes.env);
    const tasks = (await taskKeys(fakes.env)).map((e) => JSON.parse(e.value!));
    expect(tasks.map((t) => [t.status, t.stopRequestedBy])).toEqual([["starting", undefined]]);
    expect(fakes.openhands.find("POST", /\/pause$/)).toEqual([]);
    expect(await response.json()).toMatchObject({ ignored: "the command was made more than a day before it arrived" });
  });
});

describe("once means once, under overlapping deliveries (issue 19)", () => {
  /** Sends every payload at once, as GitHub does for quick comments, and waits for all the work they leave. */
  async function burst(fakes: Fakes, payloads: unknown[]) {
    const sent = await Promise.all(
      payloads.map(async (payload) =>
        callWorkerWithoutWaiting(await signedWebhook("issue_comment", payload), fakes.env),
      ),
    );
    await Promise.all(sent.map((s) => s.settled()));
    for (let i = 1; i <= 2; i++) await runCron(fakes.env, new Date(Date.now() + i * 3 * 60_000));
    return Promise.all(sent.map((s) => s.response.status));
  }
  const posted = (fakes: Fakes) => fakes.github.find("POST", /\/issues\/\d+\/comments$/);

  it("five quick mentions by a read-only collaborator get one reply", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("reader", "read");
    // Known already, so each is decided at once, as on a warm isolate.
    await runCron(fakes.env);
    const mentions = Array.from({ length: 5 }, (_, i) => {
      const payload = commentOn("Codertocat", "Hello-World", "reader", `@openhands-app please fix ${i}`);
      payload.comment.id += i;
      payload.comment.author_association = "COLLABORATOR";
      return payload;
    });
    expect(await burst(fakes, mentions)).toEqual([202, 202, 202, 202, 202]);
    expect(posted(fakes)).toHaveLength(1);
    expect((posted(fakes)[0]!.body as { body: string }).body).toMatch(/^Sorry @reader, only people with write/);
    expect(starts(fakes)).toEqual([]);
    expect(await taskKeys(fakes.env)).toEqual([]);
  });
});

describe("once means once, when KV is slow to show what an overlapping delivery wrote", () => {
  /** KV as seen from another request: every read lags a moment behind the writes. */
  function laggingKv(kv: KVNamespace): KVNamespace {
    return new Proxy(kv, {
      get(target, name) {
        const value = Reflect.get(target, name, target);
        if (name !== "get" || typeof value !== "function")
          return typeof value === "function" ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          const read = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          await new Promise((resolve) => setTimeout(resolve, 20));
          return read;
        };
      },
    });
  }

  it.each([
    ["a help", "@openhands-app help", 1, 0],
    ["a request", "@openhands-app fix the crash", 1, 1],
  ])("%s delivered three times at once is answered once", async (_, body, comments, conversations) => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "admin");
    await runCron(fakes.env);
    const env = { ...fakes.env, TASKS: laggingKv(fakes.env.TASKS) };
    const payload = commentOn("Codertocat", "Hello-World", "Codertocat", body);
    const sent = await Promise.all(
      [0, 1, 2].map(async () => callWorkerWithoutWaiting(await signedWebhook("issue_comment", payload), env)),
    );
    await Promise.all(sent.map((s) => s.settled()));
    await runCron(env, new Date(Date.now() + 3 * 60_000));
    expect(fakes.github.find("POST", /\/issues\/\d+\/comments$/)).toHaveLength(comments);
    expect(starts(fakes)).toHaveLength(conversations);
  });
});
