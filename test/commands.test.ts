import { beforeEach, describe, expect, it } from "vitest";
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
