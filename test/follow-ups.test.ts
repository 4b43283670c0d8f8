import { beforeEach, describe, expect, it } from "vitest";
import { FakeOpenHands } from "./support/fakes/openhands";
import { callWorker, issueCommentPayload, runCron, signedWebhook } from "./support/harness";
import { quickScript, startWorld, type World } from "./support/world";

let fakes: World;
let commentId = 9_300_000;
let installationId = 6_300_000;
beforeEach(() => {
  fakes = startWorld({ script: FakeOpenHands.defaultScript() });
  installationId++;
});

async function say(body: string) {
  const payload = issueCommentPayload(body, { installationId });
  payload.comment.id = commentId++;
  await callWorker(await signedWebhook("issue_comment", payload), fakes.env);
  return payload;
}

const starts = () =>
  fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/).map((r) => r.body as Record<string, any>);
/** Oldest first, as the store lists them. */
const tasks = () => fakes.tasks();

describe("a new request on a thread whose task is still going", () => {
  it("is sent to the running conversation, and the thread is told so", async () => {
    fakes.openhands.nextScript = quickScript({ execution: ["running", "running", "running", "finished"] });
    await say("@openhands-app fix the date parser");
    await runCron(fakes.env); // READY, running
    const followUp = await say("@openhands-app also handle the year 2100");

    expect(starts()).toHaveLength(1);
    const [conversation] = [...fakes.openhands.conversations.values()];
    expect(conversation!.messages).toHaveLength(1);
    expect(conversation!.messages[0]).toMatch(/<request-([0-9a-f]{16})>\nalso handle the year 2100\n<\/request-\1>/);
    const [first, second] = await tasks();
    expect(second).toMatchObject({ status: "forwarded", forwardedTo: first!.id });
    expect(fakes.github.reactions.map((r) => r.id)).toContain(followUp.comment.id);
    const comments = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("A follow-up from @Codertocat");

    for (let i = 0; i < 3; i++) await runCron(fakes.env);
    expect((await tasks()).map((t) => t.status)).toEqual(["succeeded", "forwarded"]);
    expect(await fakes.received()).toEqual([]);
  });

  it("waits while the first one's sandbox is not running (409), then goes on with its conversation", async () => {
    fakes.openhands.nextScript = {
      ...FakeOpenHands.defaultScript(),
      startSteps: ["WORKING", "WAITING_FOR_SANDBOX"],
      execution: [null, null, null, "finished"],
      sandbox: ["STARTING", "STARTING", "STARTING", "RUNNING"],
    };
    await say("@openhands-app fix the date parser");
    await say("@openhands-app and update the changelog");
    expect(starts()).toHaveLength(1);
    const waiting = fakes.github.commentsOn("Codertocat", "Hello-World", 1).at(-1)!;
    expect(waiting.body).toContain("waiting for the request already running on this thread to finish");

    for (let tick = 1; tick <= 16; tick++) {
      await runCron(fakes.env, new Date(Date.now() + tick * 3 * 60_000));
      if ((await tasks()).every((t) => t.status === "succeeded")) break;
    }
    expect((await tasks()).map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
    expect(await fakes.received()).toEqual([]);
    // Tried while the first ran and told to wait (409); sent again into its conversation once it ended.
    expect(starts()).toHaveLength(1);
    const [first] = await tasks();
    const sends = fakes.openhands.find("POST", /\/send-message$/);
    expect(sends.length).toBeGreaterThan(1);
    expect(new Set(sends.map((r) => r.path))).toEqual(new Set([`/api/v1/app-conversations/${first!.id}/send-message`]));
    const prompt: string = (sends.at(-1)!.body as any).content[0].text;
    expect(prompt).toMatch(/<request-([0-9a-f]{16})>\nand update the changelog\n<\/request-\1>/);
    expect([...fakes.openhands.conversations.values()][0]!.messages.at(-1)).toBe(prompt);
  });
});

describe("a new request after the previous one ended, asked `new`", () => {
  it("starts a new conversation that links the previous one and includes its final message", async () => {
    fakes.openhands.nextScript = quickScript({ execution: ["finished"] });
    await say("@openhands-app fix the date parser");
    await runCron(fakes.env);
    await runCron(fakes.env);
    const [first] = await tasks();
    expect(first!.status).toBe("succeeded");
    await say("@openhands-app new now add a regression test");
    expect(starts()).toHaveLength(2);
    const prompt: string = starts()[1]!.initial_message.content[0].text;
    expect(prompt).toContain(
      `This continues an earlier request on the same issue, handled in https://app.all-hands.dev/conversations/${first!.id}`,
    );
    expect(prompt).toMatch(/<previous_result-[0-9a-f]{16}>\nI fixed the leap-year bug/);
    // `new` is how it was asked, not what was asked.
    expect(prompt).toMatch(/<request-([0-9a-f]{16})>\nnow add a regression test\n<\/request-\1>/);
    expect(fakes.openhands.find("POST", /\/send-message$/)).toEqual([]);
  });
});
