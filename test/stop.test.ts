import { beforeEach, describe, expect, it } from "vitest";
import { FakeOpenHands } from "./support/fakes/openhands";
import { callWorker, issueCommentPayload, runCron, signedWebhook } from "./support/harness";
import { startWorld, type World, type WorldOptions } from "./support/world";

/**
 * `@openhands-app stop`: what a stop pauses, when it takes effect, who may say it, and that it
 * sticks when a tick or a follow-up races it.
 */
let commentId = 9_150_000;

/** A start that shows its sandbox being made, so a stop can come before the sandbox exists. */
const SLOWER_START: WorldOptions = { script: { startSteps: ["WORKING", "WAITING_FOR_SANDBOX"] } };
const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);
/** A comment on issue #1 with an id of its own, as recovery.test.ts numbers them. */
const comment = (fakes: World, body: string) =>
  fakes.comment(body, { commentId: 700_100 + fakes.github.requests.length });

describe("@openhands-app stop", () => {
  let fakes: World;
  let installationId = 4_343_000;
  beforeEach(() => {
    installationId++;
    fakes = startWorld({ script: { execution: ["running", "running", "running", "finished"] } });
  });
  const say = (body: string) => fakes.comment(body, { installationId, commentId: commentId++ });
  const thread = () => fakes.comments();
  const starts = () => fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/);
  /** The tasks recorded, the command's own answered record aside. */
  const tasks = async () => (await fakes.tasks()).filter((t) => t.status !== "answered");

  it("pauses the running conversation and says so in its tracking comment", async () => {
    await say("@openhands-app fix the bug");
    await runCron(fakes.env); // READY, running
    const [task] = await tasks();
    await say("@openhands-app stop");
    expect(fakes.openhands.find("POST", /\/api\/v1\/sandboxes\/[0-9a-f]{32}\/pause$/).map((r) => r.path)).toEqual([
      `/api/v1/sandboxes/${task!.id}/pause`,
    ]);
    const [ended] = await tasks();
    expect(ended!.status).toBe("stopped");
    const tracking = thread().find((c) => c.id === task!.trackingCommentId)!;
    expect(tracking.body).toContain("Stopped** by @Codertocat");
    // nothing more happens to it
    const before = fakes.openhands.requests.length;
    await runCron(fakes.env);
    expect(fakes.openhands.requests.length).toBe(before);
  });

  it("a stop before the sandbox exists takes effect as soon as the start is ready", async () => {
    fakes.openhands.nextScript = { ...FakeOpenHands.defaultScript(), startSteps: ["WORKING", "WAITING_FOR_SANDBOX"] };
    await say("@openhands-app fix the bug");
    await say("@openhands-app stop");
    expect((await tasks())[0]).toMatchObject({ status: "starting", stopRequestedBy: "Codertocat" });
    await runCron(fakes.env); // still starting
    await runCron(fakes.env); // READY: paused and stopped
    expect((await tasks())[0]!.status).toBe("stopped");
    // nothing to pause until the conversation existed; then its own sandbox
    const [conversation] = fakes.openhands.conversations.values();
    expect(fakes.openhands.find("POST", /\/pause$/).map((r) => r.path)).toEqual([
      `/api/v1/sandboxes/${conversation!.sandboxId}/pause`,
    ]);
  });

  it("from someone without write access stops nothing", async () => {
    await say("@openhands-app fix the bug");
    fakes.github.permissions.set("codertocat", "read");
    await say("@openhands-app stop");
    expect(fakes.openhands.find("POST", /\/pause$/)).toEqual([]);
    expect((await tasks())[0]!.status).toBe("starting");
  });

  it("followed by more words is a request, not a command", async () => {
    expect((await say("@openhands-app stop the crash on start-up")).status).toBe(202);
    expect(starts()).toHaveLength(1);
    expect(await tasks()).toHaveLength(1);
    expect(await fakes.received()).toEqual([]);
  });
});

describe("@openhands-app stop, as the service really behaves", () => {
  it("pauses the conversation's own sandbox when sandboxes are grouped", async () => {
    const fakes = startWorld(SLOWER_START);
    fakes.openhands.sandboxGrouping = true;
    // a sandbox of the user's already runs: with grouping, the new conversation joins it
    const shared = fakes.openhands.seedSandbox();
    fakes.openhands.nextScript = { ...fakes.openhands.nextScript, execution: ["running"] };
    await comment(fakes, "@openhands-app fix it");
    await runCron(fakes.env);
    await runCron(fakes.env);
    const [task] = await fakes.tasks();
    expect(task!.status).toBe("starting"); // running; the record is not rewritten for that step
    const conversation = fakes.openhands.conversations.get(task!.id)!;
    expect(conversation.sandboxId).toBe(shared);

    await comment(fakes, "@openhands-app stop");
    expect(fakes.openhands.find("POST", /\/pause$/).map((r) => r.path)).toEqual([
      `/api/v1/sandboxes/${conversation.sandboxId}/pause`,
    ]);
    expect((await fakes.tasks())[0]!.status).toBe("stopped");
  });

  it("answered 404 while the sandbox still runs: not marked stopped, the thread is told, the result still comes", async () => {
    const fakes = startWorld(SLOWER_START);
    fakes.openhands.nextScript = { ...fakes.openhands.nextScript, execution: ["running", "running", "finished"] };
    await comment(fakes, "@openhands-app fix it");
    await runCron(fakes.env);
    await runCron(fakes.env);
    expect((await fakes.tasks())[0]!.status).toBe("starting"); // running; not rewritten for that step
    fakes.openhands.failSandboxRuntime("pause");

    await comment(fakes, "@openhands-app stop");
    const [task] = await fakes.tasks();
    expect(task!.status).toBe("starting"); // running; the record is not rewritten for that step
    const tracking = fakes.github
      .commentsOn("Codertocat", "Hello-World", 1)
      .find((c) => c.id === task!.trackingCommentId)!;
    expect(tracking.body).toContain(
      "asked to stop, but OpenHands did not pause the sandbox and the agent is still working",
    );

    const [ended] = await fakes.tickUntilEnded({ from: 2, every: 2 });
    expect(ended!.status).toBe("succeeded");
    expect(
      fakes.github.commentsOn("Codertocat", "Hello-World", 1).find((c) => c.id === task!.trackingCommentId)!.body,
    ).toContain("OpenHands finished");
  });
});

describe("a stop racing a tick that read the task before it (issue 19: a stop sticks)", () => {
  it("a tick about to resume a sandbox OpenHands paused finds the stop recorded, and wakes nothing", async () => {
    const fakes = startWorld(SLOWER_START);
    fakes.openhands.nextScript = { ...fakes.openhands.nextScript, execution: ["running", "running", "finished"] };
    await comment(fakes, "@openhands-app fix it");
    await runCron(fakes.env);
    await runCron(fakes.env); // READY, running
    const [task] = await fakes.tasks();
    fakes.openhands.sandboxes.get(fakes.openhands.conversations.get(task!.id)!.sandboxId)!.status = "PAUSED";
    // The tick reads the conversation (paused), then its events; meanwhile a maintainer says stop.
    fakes.openhands.failNext("GET", /\/events\/search$/, async () => {
      const stop = issueCommentPayload("@openhands-app stop");
      stop.comment.id = 990_001;
      await callWorker(await signedWebhook("issue_comment", stop), fakes.env);
      return fakes.openhands.handle(
        new Request(fakes.openhands.find("GET", /\/events\/search$/).at(-1)!.url, {
          headers: { authorization: `Bearer ${fakes.env.OPENHANDS_API_KEY}` },
        }),
      ) as Promise<Response>;
    });
    await runCron(fakes.env, later(2));
    for (let i = 2; i <= 4; i++) await runCron(fakes.env, later(2 * i));
    expect(fakes.openhands.find("POST", /\/resume$/)).toEqual([]);
    expect(fakes.openhands.find("POST", /\/send-message$/)).toEqual([]);
    expect((await fakes.tasks()).find((t) => t.id === task!.id)).toMatchObject({ status: "stopped" });
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 1)[0]!.body).toMatch(/^⏹️ \*\*Stopped\*\* by @/);
  });

  it("a follow-up to a conversation being stopped waits instead of waking it", async () => {
    const fakes = startWorld(SLOWER_START);
    fakes.openhands.nextScript = { ...fakes.openhands.nextScript, execution: ["running"] };
    await comment(fakes, "@openhands-app fix it");
    await runCron(fakes.env);
    await runCron(fakes.env);
    const [task] = await fakes.tasks();
    // The stop is recorded, its pause not answered yet, when the follow-up arrives.
    fakes.openhands.failNext("POST", /\/pause$/, async () => {
      const followUp = issueCommentPayload("@openhands-app and also the docs");
      followUp.comment.id = 990_002;
      await callWorker(await signedWebhook("issue_comment", followUp), fakes.env);
      return Response.json({ success: true });
    });
    const stop = issueCommentPayload("@openhands-app stop");
    stop.comment.id = 990_003;
    await callWorker(await signedWebhook("issue_comment", stop), fakes.env);
    expect(fakes.openhands.find("POST", /\/send-message$/)).toEqual([]);
    expect((await fakes.tasks()).find((t) => t.id === task!.id)).toMatchObject({ status: "stopped" });
  });
});
