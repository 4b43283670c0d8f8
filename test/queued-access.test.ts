import { describe, expect, it } from "vitest";
import { json } from "./support/fakes/recorder";
import { effectfulGitHubCalls, issueCommentPayload, openHandsWork, runCron } from "./support/harness";
import { startWorld } from "./support/world";

/**
 * Write access is asked again right before a queued request starts (issue 20, low finding): a
 * request that waited for a slot while its author was demoted starts nothing, and ends with the
 * same not-allowed reply as a request that arrives without access.
 */
const MIN = 60_000;

describe("a request that waited in the queue", () => {
  it("whose author lost write access meanwhile starts nothing, and its queued comment becomes the not-allowed reply", async () => {
    const fakes = startWorld({
      roles: { monalisa: "write" },
      script: { execution: ["running", "running", "finished"] },
      env: { MAX_RUNNING_CONVERSATIONS: "1" },
    });
    const first = issueCommentPayload("@openhands-app first");
    const second = issueCommentPayload("@openhands-app second", { sender: { login: "monalisa", id: 4242 } });
    second.issue.number = 2;
    second.comment.id += 1;
    await fakes.deliver("issue_comment", first);
    await fakes.deliver("issue_comment", second);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
    const waiting = fakes.github.commentsOn("Codertocat", "Hello-World", 2);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.body).toContain("waiting for a free slot");

    fakes.github.permissions.set("monalisa", "read");
    for (let tick = 1; tick <= 6; tick++) await runCron(fakes.env, new Date(Date.now() + tick * 3 * MIN));

    // Only the first request ever reached OpenHands.
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
    const onSecond = fakes.github.commentsOn("Codertocat", "Hello-World", 2);
    expect(onSecond).toHaveLength(1);
    expect(onSecond[0]!.body).toContain(
      "Sorry @monalisa, only people with write, maintain or admin access to this repository can ask OpenHands to work on it.",
    );
    expect(onSecond[0]!.body).not.toContain("queued");
    // As for a request that arrives without access, nothing of it is kept.
    expect((await fakes.tasks()).map((task) => task.status)).toEqual(["succeeded"]);
    expect(await fakes.received()).toEqual([]);
    expect(
      fakes.github.find("GET", /\/collaborators\/monalisa\/permission$/).length,
      "asked on arrival and again before the start",
    ).toBe(2);

    const before = effectfulGitHubCalls(fakes.github).length + openHandsWork(fakes.openhands).length;
    for (let tick = 7; tick <= 9; tick++) await runCron(fakes.env, new Date(Date.now() + tick * 3 * MIN));
    expect(effectfulGitHubCalls(fakes.github).length + openHandsWork(fakes.openhands).length).toBe(before);
  });

  it("whose author kept write access starts as before, asked once more right before", async () => {
    const fakes = startWorld({ env: { MAX_RUNNING_CONVERSATIONS: "1" } });
    const first = issueCommentPayload("@openhands-app first");
    const second = issueCommentPayload("@openhands-app second");
    second.issue.number = 2;
    second.comment.id += 1;
    await fakes.deliver("issue_comment", first);
    await fakes.deliver("issue_comment", second);
    for (let tick = 1; tick <= 8; tick++) await runCron(fakes.env, new Date(Date.now() + tick * 3 * MIN));
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(2);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 2)[0]!.body).toContain("OpenHands finished");
    // On each arrival, and for the second once more when its slot came.
    expect(fakes.github.find("GET", /\/collaborators\/Codertocat\/permission$/i)).toHaveLength(3);
  });

  it("a follow-up that waited for the thread's running request is not sent to it once its author lost access", async () => {
    const fakes = startWorld({
      roles: { monalisa: "write" },
      script: { execution: ["running", "running", "running", "running", "finished"] },
    });
    const first = issueCommentPayload("@openhands-app fix the parser");
    await fakes.deliver("issue_comment", first);
    await runCron(fakes.env); // READY, running
    // The running conversation cannot take it just now (its sandbox is busy starting up again): it waits.
    fakes.openhands.failNext("POST", /\/send-message$/, () => json({ detail: "Sandbox is STARTING" }, 409));
    const followUp = issueCommentPayload("@openhands-app also the year 2100", {
      sender: { login: "monalisa", id: 4242 },
      installationId: first.installation.id,
    });
    followUp.comment.id += 1;
    await fakes.deliver("issue_comment", followUp);
    const sends = () => fakes.openhands.find("POST", /\/send-message$/);
    expect(sends()).toHaveLength(1);

    fakes.github.permissions.set("monalisa", "read");
    for (let tick = 1; tick <= 6; tick++) await runCron(fakes.env, new Date(Date.now() + tick * 3 * MIN));
    expect(sends()).toHaveLength(1);
    const [conversation] = [...fakes.openhands.conversations.values()];
    expect(conversation!.messages).toEqual([]);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
    const replies = fakes.github
      .commentsOn("Codertocat", "Hello-World", 1)
      .filter((c) => c.body.includes("Sorry @monalisa"));
    expect(replies).toHaveLength(1);
  });
});
