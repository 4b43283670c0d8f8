import { beforeEach, describe, expect, it } from "vitest";
import { FakeOpenHands } from "./support/fakes/openhands";
import { callWorker, issueCommentPayload, runCron, signedWebhook } from "./support/harness";
import { startWorld, type World } from "./support/world";

let fakes: World;
let commentId = 9_100_000;
let installationId = 4_242_000;
beforeEach(() => {
  installationId++;
  fakes = startWorld({ script: { execution: ["running", "running", "running", "finished"] } });
});

async function say(body: string) {
  const payload = issueCommentPayload(body, { installationId });
  payload.comment.id = commentId++;
  return callWorker(await signedWebhook("issue_comment", payload), fakes.env);
}

const thread = () => fakes.github.commentsOn("Codertocat", "Hello-World", 1);
const starts = () => fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/);
/** The tasks recorded, commands aside (kept only so that a replay is not answered twice). */
async function tasks() {
  return (await records()).filter((t) => t.status !== "answered");
}
const records = () => fakes.tasks();

describe("@openhands-app help", () => {
  it("explains the App and the commands, and starts nothing", async () => {
    expect((await say("@openhands-app help")).status).toBe(202);
    expect(thread()).toHaveLength(1);
    expect(thread()[0]!.body).toContain("Commands (alone after the mention): `stop`");
    expect(starts()).toEqual([]);
    expect(await tasks()).toEqual([]);
    expect(await fakes.received()).toEqual([]);
    // recorded as answered, so that the same delivery again is not answered again
    expect((await records()).map((t) => t.status)).toEqual(["answered"]);
    expect(await fakes.received()).toEqual([]);
  });

  it("the same signed delivery sent three times is answered once", async () => {
    const payload = issueCommentPayload("@openhands-app status", { installationId });
    payload.comment.id = commentId++;
    const request = await signedWebhook("issue_comment", payload);
    for (let i = 0; i < 3; i++) await callWorker(request.clone(), fakes.env);
    expect(thread()).toHaveLength(1);
  });

  it("obeys the permission gate, and keeps nothing of someone who may not ask", async () => {
    fakes.github.permissions.set("codertocat", "read");
    const payload = issueCommentPayload("@openhands-app help", { installationId });
    payload.comment.id = commentId++;
    const request = await signedWebhook("issue_comment", payload);
    await callWorker(request.clone(), fakes.env);
    expect(thread().map((c) => c.body)).toEqual([
      expect.stringContaining("only people with write, maintain or admin access"),
    ]);
    expect(await records()).toEqual([]);
    expect(await fakes.received()).toEqual([]);
    // GitHub redelivers it: the reply on the thread is found, and not posted again
    await callWorker(request.clone(), fakes.env);
    expect(thread()).toHaveLength(1);
    expect(await records()).toEqual([]);
    expect(await fakes.received()).toEqual([]);
  });
});

describe("@openhands-app status", () => {
  it("says when there is nothing, and lists the tasks of the thread otherwise", async () => {
    await say("@OpenHands-app status");
    expect(thread()[0]!.body).toBe("No OpenHands task on this thread in the last day.");
    await say("@openhands-app fix the bug");
    await runCron(fakes.env);
    await say("@openhands-app status.");
    const reply = thread().at(-1)!.body;
    expect(reply).toContain("OpenHands tasks on this thread, newest first:");
    expect(reply).toContain("👀 working: asked by @Codertocat");
    // nothing counted yet: no cost rather than a zero
    expect(reply).not.toContain("$");
    expect(starts()).toHaveLength(1);
  });

  it("shows what a running task has cost so far", async () => {
    await say("@openhands-app fix the bug");
    await runCron(fakes.env);
    const [conversation] = [...fakes.openhands.conversations.values()];
    fakes.openhands.setMetrics(conversation!.id, { cost: 0.42, promptTokens: 120_000, completionTokens: 3_000 });
    await say("@openhands-app status");
    expect(thread().at(-1)!.body).toMatch(
      /- 👀 working: asked by @Codertocat (less than a minute|\d+ min) ago · \$0\.42 · 123k tokens · `claude-sonnet-4-5` so far · \[conversation\]/,
    );
  });
});

describe("@openhands-app stop", () => {
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
