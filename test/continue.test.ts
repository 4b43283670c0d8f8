import { describe, expect, it } from "vitest";
import { issueCommentPayload, runCron } from "./support/harness";
import { startWorld, type World, type WorldOptions } from "./support/world";

/**
 * A request on a thread whose last run ended goes on with that conversation (`continue_days`): the agent
 * keeps what it did and learnt, instead of a new conversation that only links the old one.
 */
const START = /^\/api\/v1\/app-conversations$/;
const SEND = /\/send-message$/;
const RESUME = /^\/api\/v1\/sandboxes\/[0-9a-f]{32}\/resume$/;
const FIRST_ANSWER =
  "I fixed the leap-year bug in parseDate. Opened PR #42: https://github.com/Codertocat/Hello-World/pull/42";
const SECOND_ANSWER = "Added a regression test for the year 2100 to PR #42.";

let commentId = 9_400_000;
const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);

function world(options: WorldOptions = {}): World {
  return startWorld({ ...options, script: { finalMessage: FIRST_ANSWER, ...options.script } });
}

const ask = (w: World, body: string) => w.comment(body, { commentId: commentId++ });

/** A first request whose run has ended; its conversation as the fake holds it. */
async function firstRun(w: World, every = 3) {
  await ask(w, "@openhands-app fix the date parser");
  const [task] = await w.tickUntilEnded({ every });
  expect(task!.status).toBe("succeeded");
  const conversation = [...w.openhands.conversations.values()][0]!;
  w.openhands.scriptNextRun(conversation.id, { execution: ["running", "finished"], finalMessage: SECOND_ANSWER });
  return conversation;
}

const starts = (w: World) => w.openhands.find("POST", START);
const sends = (w: World) => w.openhands.find("POST", SEND);
const sentText = (w: World, i = -1) => (sends(w).at(i)!.body as { content: { text: string }[] }).content[0]!.text;
const sents = (w: World) =>
  sends(w)
    .map((r) => JSON.stringify(r.body))
    .join("\n");
/** The second request's tracking comment: the thread's newest comment. */
const secondComment = (w: World) => w.comments().at(-1)!.body;

describe("a request after the thread's last run ended", () => {
  it("goes into the same conversation: one conversation, two results, the second counting its own cost", async () => {
    const w = world();
    const conversation = await firstRun(w);
    w.openhands.setMetrics(conversation.id, { cost: 1.2, promptTokens: 100_000, completionTokens: 20_000 });

    await ask(w, "@openhands-app now add a regression test for 2100");
    expect(starts(w)).toHaveLength(1);
    expect(sends(w).map((r) => r.path)).toEqual([`/api/v1/app-conversations/${conversation.id}/send-message`]);
    expect(sentText(w)).toMatch(/<request-([0-9a-f]{16})>\nnow add a regression test for 2100\n<\/request-\1>/);
    expect(sentText(w)).toContain("where you answered before");
    expect(secondComment(w)).toMatch(/^👀 \*\*OpenHands is working on it, continuing the conversation\.\*\*/);
    expect(secondComment(w)).toContain(`(https://app.all-hands.dev/conversations/${conversation.id})`);

    w.openhands.setMetrics(conversation.id, { cost: 1.5, promptTokens: 130_000, completionTokens: 25_000 });
    const tasks = await w.tickUntilEnded({ from: 10, every: 3 });
    expect(tasks.map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
    const [first, second] = w.comments();
    expect(first!.body).toContain("I fixed the leap-year bug");
    expect(second!.body).toContain(SECOND_ANSWER);
    expect(second!.body).not.toContain("I fixed the leap-year bug");
    expect(second!.body).toContain("$0.30 · 35k tokens");
    expect(starts(w)).toHaveLength(1);
    // What the thread's next request goes on with: still this conversation, now ended with the second task.
    const memory = JSON.parse((await w.env.TASKS.get("thread:codertocat/hello-world#1"))!);
    expect(memory).toMatchObject({ conversationId: conversation.id, taskId: tasks[1]!.id });
  });

  it("tells the agent what the thread said since its last answer, and nothing from before", async () => {
    const w = world();
    const person = { login: "monalisa", id: 4242, type: "User" as const };
    w.github.addComment("Codertocat", "Hello-World", 1, "An old remark about time zones.", person);
    await firstRun(w, 0);
    const { endedAt } = JSON.parse((await w.env.TASKS.get("thread:codertocat/hello-world#1"))!);
    const remark = w.github.addComment("Codertocat", "Hello-World", 1, "2100 is not a leap year, by the way.", person);
    remark.created_at = remark.updated_at = new Date(Date.parse(endedAt) + 1000).toISOString();
    const payload = issueCommentPayload("@openhands-app handle 2100 too", { commentId: commentId++ });
    payload.comment.created_at = payload.comment.updated_at = new Date(Date.parse(endedAt) + 2000).toISOString();
    await w.deliver("issue_comment", payload, { keepTimes: true });
    expect(sentText(w)).toContain("2100 is not a leap year, by the way.");
    expect(sentText(w)).toContain('author="monalisa"');
    expect(sentText(w)).not.toContain("An old remark");
  });

  it("resumes a paused sandbox first, and a tick sends the request once it runs, once however ticks overlap", async () => {
    const w = world();
    const conversation = await firstRun(w);
    // OpenHands paused the idle sandbox.
    w.openhands.sandboxes.get(conversation.sandboxId)!.status = "PAUSED";
    await ask(w, "@openhands-app now add a regression test for 2100");
    expect(w.openhands.find("POST", RESUME).map((r) => r.path)).toEqual([
      `/api/v1/sandboxes/${conversation.sandboxId}/resume`,
    ]);
    expect(sends(w)).toEqual([]);
    expect((await w.tasks()).map((t) => t.status)).toEqual(["succeeded", "starting"]);

    // Two ticks overlap once it is back: the request goes in once.
    await Promise.all([runCron(w.env, later(10)), runCron(w.env, later(10))]);
    expect(sends(w)).toHaveLength(1);
    const tasks = await w.tickUntilEnded({ from: 13, every: 3 });
    expect(tasks.map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
    expect(secondComment(w)).toContain(SECOND_ANSWER);
    expect(starts(w)).toHaveLength(1);
  });

  it("starts a new conversation when the sandbox will not come back, and says so", async () => {
    const w = world();
    const conversation = await firstRun(w);
    w.openhands.sandboxes.get(conversation.sandboxId)!.status = "PAUSED";
    w.openhands.failSandboxRuntime("resume");
    await ask(w, "@openhands-app now add a regression test for 2100");
    expect(starts(w)).toHaveLength(2);
    const prompt: string = (starts(w)[1]!.body as any).initial_message.content[0].text;
    expect(prompt).toContain(`handled in https://app.all-hands.dev/conversations/${conversation.id}`);
    expect(prompt).toMatch(/<previous_result-[0-9a-f]{16}>\nI fixed the leap-year bug/);
    const [, second] = await w.tasks();
    expect(secondComment(w)).toMatch(/^👀 \*\*OpenHands is working on it\.\*\*/);
    expect(secondComment(w)).toContain(`(https://app.all-hands.dev/conversations/${second!.id})`);
    expect(secondComment(w)).toContain(
      "↪️ The thread's last conversation could not go on (OpenHands did not bring its sandbox back): this is a new one, told what it concluded.",
    );
    await w.tickUntilEnded({ from: 10, every: 3 });
    expect(secondComment(w)).toContain("↪️ The thread's last conversation could not go on");
  });

  it("starts a new conversation when the last one was deleted, and says so", async () => {
    const w = world();
    const conversation = await firstRun(w);
    w.openhands.conversations.get(conversation.id)!.deleted = true;
    await ask(w, "@openhands-app now add a regression test for 2100");
    expect(sends(w)).toEqual([]);
    expect(starts(w)).toHaveLength(2);
    expect(secondComment(w)).toContain("could not go on (it is gone from OpenHands)");
  });

  it("starts a new conversation when a resumed sandbox is not back by the start deadline", async () => {
    const w = world();
    const conversation = await firstRun(w);
    const box = w.openhands.sandboxes.get(conversation.sandboxId)!;
    box.status = "PAUSED";
    await ask(w, "@openhands-app now add a regression test for 2100");
    // Paused again before it ran (OpenHands' cap on running sandboxes): it never comes back.
    box.status = "PAUSED";
    await runCron(w.env, later(5));
    expect(starts(w)).toHaveLength(1);
    await runCron(w.env, later(Number(w.env.START_TIMEOUT_MINUTES) + 5));
    expect(sends(w)).toEqual([]);
    expect(starts(w)).toHaveLength(2);
    expect(secondComment(w)).toContain("could not go on (OpenHands did not bring its sandbox back)");
  });

  it("with continue_days: 0, starts a new conversation as before", async () => {
    const w = world({ files: { "Codertocat/Hello-World:.github/openhands.yml": "continue_days: 0\n" } });
    await firstRun(w);
    await ask(w, "@openhands-app now add a regression test for 2100");
    expect(sends(w)).toEqual([]);
    expect(starts(w)).toHaveLength(2);
    expect(await w.env.TASKS.get("thread:codertocat/hello-world#1")).toBeNull();
  });
});

describe("a conversation someone stopped", () => {
  it("is not woken by a tick, and goes on when a new request asks", async () => {
    const w = world({ script: { execution: ["running", "running", "running", "running", "finished"] } });
    await ask(w, "@openhands-app fix the date parser");
    await runCron(w.env); // READY, running
    await ask(w, "@openhands-app stop");
    const [stopped] = (await w.tasks()).filter((t) => t.status !== "answered");
    expect(stopped!.status).toBe("stopped");
    for (let tick = 1; tick <= 5; tick++) await runCron(w.env, later(3 * tick));
    expect(w.openhands.find("POST", RESUME)).toEqual([]);
    expect(sends(w)).toEqual([]);

    await ask(w, "@openhands-app go on, but keep the old API");
    expect(w.openhands.find("POST", RESUME).map((r) => r.path)).toEqual([
      `/api/v1/sandboxes/${[...w.openhands.conversations.values()][0]!.sandboxId}/resume`,
    ]);
    await runCron(w.env, later(20));
    expect(sents(w)).toContain("go on, but keep the old API");
    expect(starts(w)).toHaveLength(1);
  });
});
