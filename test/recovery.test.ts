import { describe, expect, it } from "vitest";
import { callWorker, issueCommentPayload, kvSnapshot, runCron, signedWebhook } from "./support/harness";
import { quickScript, startWorld, type World, type WorldOptions } from "./support/world";

/**
 * Recovery as the service really behaves (its source, not its docs): a second
 * start with the same conversation id is not refused, the start-task search by
 * conversation id finds only READY starts, sandbox ids differ from conversation
 * ids when sandboxes are grouped, a 404 from pause proves nothing, and a run
 * resumed after OpenHands paused it reads `error` until it is told to go on.
 */
type Fakes = World;

/** A start that shows its sandbox being made, so a lost answer can be found mid-start. */
const SLOWER_START: WorldOptions = { script: { startSteps: ["WORKING", "WAITING_FOR_SANDBOX"] } };

const START = /^\/api\/v1\/app-conversations$/;
const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);

async function comment(fakes: Fakes, body: string, number = 1) {
  const payload = issueCommentPayload(body);
  payload.issue.number = number;
  payload.comment.id = 700_000 + number * 100 + fakes.github.requests.length;
  return callWorker(await signedWebhook("issue_comment", payload), fakes.env);
}

/** The service takes the start, but its answer never reaches the Worker (a reset connection). */
function loseStartAnswer(fakes: Fakes) {
  fakes.openhands.failNext("POST", START, async () => {
    const sent = fakes.openhands.find("POST", START).at(-1)!;
    await fakes.openhands.handle(
      new Request(`${fakes.openhands.baseUrl}/api/v1/app-conversations`, {
        method: "POST",
        headers: { authorization: `Bearer ${fakes.env.OPENHANDS_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(sent.body),
      }),
    );
    throw new TypeError("Network connection lost.");
  });
}

describe("a start whose answer was lost", () => {
  it("is found while still in progress and followed: no second start, one result", async () => {
    const fakes = startWorld(SLOWER_START);
    loseStartAnswer(fakes);
    await comment(fakes, "@openhands-app fix it");
    expect((await fakes.tasks())[0]).toMatchObject({ status: "queued", attempts: 1 });
    const [ended] = await fakes.tickUntilEnded({ from: 2, every: 2 });
    expect(ended!.status).toBe("succeeded");
    // the service saw one POST from the Worker plus the replay above: one start task
    expect(fakes.openhands.startTasks.size).toBe(1);
    const thread = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(thread).toHaveLength(1);
    expect(thread[0]!.body).toContain("OpenHands finished");
  });

  it("that ended in ERROR is reported with the service's detail, not started again", async () => {
    const fakes = startWorld(SLOWER_START);
    fakes.openhands.nextScript = {
      start: "ERROR",
      startSteps: ["WORKING"],
      startErrorDetail: "Repository not found: Codertocat/Hello-World",
    };
    loseStartAnswer(fakes);
    await comment(fakes, "@openhands-app fix it");
    // the service moves on without us reading it
    fakes.openhands.advanceStarts();
    fakes.openhands.advanceStarts();
    const [ended] = await fakes.tickUntilEnded({ from: 2, every: 2 });
    expect(ended!.status).toBe("failed");
    expect(fakes.openhands.startTasks.size).toBe(1);
    const [tracking] = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(tracking!.body).toContain("Repository not found: Codertocat/Hello-World");
    expect(tracking!.body).not.toContain("no longer exists");
  });

  it("is never confused with another request's start made in the same minutes", async () => {
    const fakes = startWorld(SLOWER_START);
    await comment(fakes, "@openhands-app first thing", 7); // another thread's start, in the search window
    loseStartAnswer(fakes);
    const first = fakes.openhands.nextScript;
    fakes.openhands.nextScript = { start: "ERROR", startSteps: ["WORKING"], startErrorDetail: "Branch not found" };
    const [seven] = await fakes.tasks();
    fakes.openhands.script(seven!.id, first);
    await comment(fakes, "@openhands-app second thing", 8);
    fakes.openhands.advanceStarts();
    fakes.openhands.advanceStarts();
    const all = await fakes.tickUntilEnded({ from: 2, every: 2 });
    const byNumber = new Map(all.map((t) => [t.request.number, t]));
    expect(byNumber.get(7)!.status).toBe("succeeded");
    expect(byNumber.get(8)!.status).toBe("failed");
    expect(byNumber.get(8)!.startTaskId).not.toBe(byNumber.get(7)!.startTaskId);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 8)[0]!.body).toContain("Branch not found");
  });
});

describe("a duplicate start (a redelivery that raced past KV)", () => {
  it("stuck WORKING behind the first is not reported as failed or timed out: the running conversation is followed", async () => {
    const fakes = startWorld(SLOWER_START);
    const payload = issueCommentPayload("@openhands-app fix it");
    await callWorker(await signedWebhook("issue_comment", payload), fakes.env);
    const [first] = (await kvSnapshot(fakes.env)).filter((e) => e.name.startsWith("task:"));
    await fakes.env.TASKS.delete(first!.name);
    await callWorker(await signedWebhook("issue_comment", structuredClone(payload)), fakes.env);
    expect(fakes.openhands.find("POST", START)).toHaveLength(2);
    // The first start goes on by itself; the second never leaves WORKING.
    for (let i = 0; i < 3; i++) fakes.openhands.advanceStarts();
    // even past the start deadline, the conversation with our id decides
    const [ended] = await fakes.tickUntilEnded({ from: 20, every: 2 });
    expect(ended!.status).toBe("succeeded");
    const thread = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(thread).toHaveLength(1);
    expect(thread[0]!.body).toContain("OpenHands finished");
  });
});

describe("a sandbox OpenHands paused mid-run (its concurrency cap)", () => {
  async function pausedMidRun(fakes: Fakes) {
    fakes.openhands.nextScript = { ...fakes.openhands.nextScript, execution: ["running", "running", "finished"] };
    await comment(fakes, "@openhands-app fix it");
    await runCron(fakes.env);
    await runCron(fakes.env); // READY, running
    const [task] = await fakes.tasks();
    expect(task!.status).toBe("starting"); // running; the record is not rewritten for that step
    fakes.openhands.sandboxes.get(fakes.openhands.conversations.get(task!.id)!.sandboxId)!.status = "PAUSED";
    return task;
  }

  it("is resumed, told to go on once it runs, and its result is reported", async () => {
    const fakes = startWorld(SLOWER_START);
    const task = await pausedMidRun(fakes);
    const [ended] = await fakes.tickUntilEnded({ from: 2, every: 2 });
    expect(ended!.status).toBe("succeeded");
    expect(fakes.openhands.find("POST", /\/resume$/)).toHaveLength(1);
    const continues = fakes.openhands.find("POST", /\/send-message$/);
    expect(continues.map((r) => r.path)).toEqual([`/api/v1/app-conversations/${task!.id}/send-message`]);
    expect(JSON.stringify(continues[0]!.body)).toContain("Continue the task where you left off");
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 1)[0]!.body).toContain("OpenHands finished");
  });

  it("that fails again after the resume is reported honestly", async () => {
    const fakes = startWorld(SLOWER_START);
    const task = await pausedMidRun(fakes);
    await runCron(fakes.env, later(2)); // resumed
    await runCron(fakes.env, later(4)); // continued
    fakes.openhands.conversations.get(task!.id)!.injected.push("error");
    const [ended] = await fakes.tickUntilEnded({ from: 6, every: 2 });
    expect(ended!.status).toBe("failed");
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 1)[0]!.body).toContain(
      "the agent run ended with an error, after OpenHands paused its sandbox and this App resumed it",
    );
  });
});

describe("a run that reads as gone for a moment (issue 19: transient reads are not endings)", () => {
  /** Started and seen running once; `at` is minutes after that. */
  async function running(fakes: Fakes, execution: string[]) {
    fakes.openhands.nextScript = quickScript({ execution });
    await comment(fakes, "@openhands-app fix it");
    await runCron(fakes.env, later(1));
    expect((await fakes.tasks())[0]!.status).not.toBe("failed");
  }
  const comments = (fakes: Fakes) => fakes.github.commentsOn("Codertocat", "Hello-World", 1).map((c) => c.body);

  it("two MISSING reads from a failed runtime call, then the finish: the result, never a failure", async () => {
    const fakes = startWorld(SLOWER_START);
    await running(fakes, ["running", "running", "running", "running", "finished"]);
    fakes.openhands.failRuntimeReads(2);
    await runCron(fakes.env, later(4));
    await runCron(fakes.env, later(7));
    const [counted] = await fakes.tasks();
    expect(counted).toMatchObject({ goneReads: 2 });
    expect(comments(fakes).some((body) => body.startsWith("❌"))).toBe(false);
    const [ended] = await fakes.tickUntilEnded({ from: 10, every: 2 });
    expect(ended).toMatchObject({ status: "succeeded" });
    expect(ended).not.toHaveProperty("goneReads");
    expect(comments(fakes)[0]).toMatch(/^✅ \*\*OpenHands/);
  });

  it("a read that shows it again starts the count afresh", async () => {
    const fakes = startWorld(SLOWER_START);
    await running(fakes, ["running"]);
    fakes.openhands.failRuntimeReads(2);
    await runCron(fakes.env, later(4));
    await runCron(fakes.env, later(7));
    await runCron(fakes.env, later(10)); // there again
    expect((await fakes.tasks())[0]).not.toHaveProperty("goneReads");
    fakes.openhands.failRuntimeReads(2);
    await runCron(fakes.env, later(13));
    await runCron(fakes.env, later(16));
    expect((await fakes.tasks())[0]).toMatchObject({ status: "running", goneReads: 2 });
  });

  it("MISSING for good: failed once three reads span five minutes, well within half an hour", async () => {
    const fakes = startWorld(SLOWER_START);
    await running(fakes, ["running"]);
    fakes.openhands.failRuntimeReads(100);
    for (const minute of [4, 5, 6]) await runCron(fakes.env, later(minute)); // three reads, two minutes
    expect((await fakes.tasks())[0]).toMatchObject({ status: "running", goneReads: 3 });
    await runCron(fakes.env, later(9));
    expect((await fakes.tasks())[0]).toMatchObject({ status: "failed" });
    expect(comments(fakes)[0]).toContain("the OpenHands sandbox is gone before the agent finished");
  });

  it("a conversation deleted while its record still says starting ends within half an hour, not at the run deadline", async () => {
    const fakes = startWorld(SLOWER_START);
    await running(fakes, ["running"]);
    // Seen running, which is not written: the record still says "starting".
    expect((await fakes.tasks())[0]).toMatchObject({ status: "starting" });
    for (const conversation of fakes.openhands.conversations.values()) conversation.deleted = true;
    for (const minute of [4, 7]) await runCron(fakes.env, later(minute));
    expect((await fakes.tasks())[0]).toMatchObject({ status: "running", goneReads: 2 });
    for (const minute of [10, 13]) await runCron(fakes.env, later(minute));
    expect((await fakes.tasks())[0]).toMatchObject({ status: "failed" });
    expect(comments(fakes)[0]).toMatch(/^❌/);
  });

  it("five minutes of MISSING with only two reads is not enough: the third read decides", async () => {
    const fakes = startWorld(SLOWER_START);
    await running(fakes, ["running"]);
    fakes.openhands.failRuntimeReads(100);
    await runCron(fakes.env, later(4));
    await runCron(fakes.env, later(12));
    expect((await fakes.tasks())[0]).toMatchObject({ status: "running", goneReads: 2 });
    await runCron(fakes.env, later(15));
    expect((await fakes.tasks())[0]).toMatchObject({ status: "failed" });
  });

  it("a conversation that no longer exists is believed only when that lasts too", async () => {
    const fakes = startWorld(SLOWER_START);
    await running(fakes, ["running"]);
    fakes.openhands.failRuntimeReads(1);
    await runCron(fakes.env, later(4));
    for (const conversation of fakes.openhands.conversations.values()) conversation.deleted = true;
    await runCron(fakes.env, later(7));
    expect((await fakes.tasks())[0]).toMatchObject({ status: "running", goneReads: 2 });
    expect(comments(fakes)[0]).not.toMatch(/^❌/);
    await runCron(fakes.env, later(10));
    expect((await fakes.tasks())[0]).toMatchObject({ status: "failed" });
    expect(comments(fakes)[0]).toContain("the conversation no longer exists on OpenHands");
  });
});

describe("a run whose ending cannot be read (issue 19: every run reaches the thread)", () => {
  it("a finished run whose final answer OpenHands will not give is posted without it after about ten minutes", async () => {
    const fakes = startWorld(SLOWER_START);
    fakes.openhands.nextScript = quickScript({ execution: ["finished"] });
    // agent_server's route fails, and the app server's event search answers 404 (routes that differ).
    fakes.openhands.failNext(
      "GET",
      /\/agent_final_response$/,
      () => Response.json({ detail: "boom" }, { status: 500 }),
      50,
    );
    fakes.openhands.failNext(
      "GET",
      /\/events\/search$/,
      () => Response.json({ detail: "Not Found" }, { status: 404 }),
      50,
    );
    await comment(fakes, "@openhands-app fix it");
    const body = () => fakes.github.commentsOn("Codertocat", "Hello-World", 1)[0]!.body;
    for (const minute of [3, 6, 9]) {
      await runCron(fakes.env, later(minute));
      expect(body()).toMatch(/^👀/);
    }
    await runCron(fakes.env, later(14));
    const [ended] = await fakes.tasks();
    expect(ended).toMatchObject({ status: "succeeded" });
    expect(body()).toMatch(/^✅ \*\*OpenHands/);
    expect(body()).toContain("OpenHands would not give the agent's final message; it is in the [conversation](");
    // A handful of reads, not one per tick forever.
    expect(fakes.openhands.find("GET", /\/events\/search$/).length).toBeLessThanOrEqual(8);
  });

  it("a gone sandbox whose events cannot be read still ends at the run deadline", async () => {
    const fakes = startWorld({ env: { RUN_TIMEOUT_MINUTES: "30" }, script: { execution: ["running"] } });
    await comment(fakes, "@openhands-app fix it");
    await runCron(fakes.env, later(1));
    fakes.openhands.failRuntimeReads(1_000);
    fakes.openhands.failNext(
      "GET",
      /\/events\/search$/,
      () => Response.json({ detail: "Not Found" }, { status: 404 }),
      1_000,
    );
    for (const minute of [4, 10, 20]) await runCron(fakes.env, later(minute));
    // Not ended on unreadable events (its record still says "starting": running is not written).
    expect(["starting", "running"]).toContain((await fakes.tasks())[0]!.status);
    await runCron(fakes.env, later(40));
    expect((await fakes.tasks())[0]).toMatchObject({ status: "timed_out" });
  });
});
