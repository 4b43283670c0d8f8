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
import { startWorld, type WorldOptions } from "./support/world";

/**
 * The webhook records before it answers and reads the repository's config after:
 * GitHub being slow or down when a request arrives on a repository the App has
 * not seen lately costs a delay, never the request.
 */
const CONFIG = /\/contents\/\.github(%2F|\/)openhands\.yml$/;

const HELPER: WorldOptions = { files: { "Codertocat/Hello-World:.github/openhands.yml": "mention: '@helper'\n" } };

async function records(env: TestEnv) {
  return (await kvSnapshot(env))
    .filter((e) => e.name.startsWith("task:"))
    .map((e) => ({ kind: (e.metadata as { s: string }).s, value: JSON.parse(e.value!) }));
}

const minutes = (n: number) => new Date(Date.now() + n * 60_000);

describe("GitHub cannot give the repository's config when a request arrives", () => {
  it("the request waits as received, and the cron decides it by the config once GitHub answers", async () => {
    const fakes = startWorld(HELPER);
    fakes.github.failNext("GET", CONFIG, () => json({ message: "Server Error" }, 500), 2);
    const response = await callWorker(
      await signedWebhook("issue_comment", issueCommentPayload("@helper fix the crash")),
      fakes.env,
    );
    expect(response.status).toBe(202);
    expect((await records(fakes.env)).map((r) => r.kind)).toEqual(["received"]);
    expect(effectfulGitHubCalls(fakes.github)).toEqual([]);
    // the cron is told to look, although no task exists yet
    expect((await kvSnapshot(fakes.env)).map((e) => e.name)).toContain("poll:active");

    await runCron(fakes.env, minutes(0)); // the webhook still owns it
    expect((await records(fakes.env)).map((r) => r.kind)).toEqual(["received"]);
    for (let tick = 1; tick <= 4; tick++) await runCron(fakes.env, minutes(2 * tick));
    const [task] = await records(fakes.env);
    expect(task).toMatchObject({ kind: "succeeded", value: { request: { request: "fix the crash" } } });
    const comments = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("OpenHands finished");
    expect(fakes.openhands.startTasks.size).toBe(1);
  });

  it("an event that turns out to ask for nothing is dropped quietly", async () => {
    const fakes = startWorld(HELPER);
    fakes.github.failNext("GET", CONFIG, () => json({ message: "Server Error" }, 500), 2);
    await callWorker(
      await signedWebhook("issue_comment", issueCommentPayload("@openhands-app looks good, thanks")),
      fakes.env,
    );
    expect((await records(fakes.env)).map((r) => r.kind)).toEqual(["received"]);
    await runCron(fakes.env, minutes(2));
    expect(await records(fakes.env)).toEqual([]);
    expect(effectfulGitHubCalls(fakes.github)).toEqual([]);
    expect(openHandsWork(fakes.openhands)).toEqual([]);
  });

  it("when GitHub stays down for half an hour, the usual mention is served by the defaults", async () => {
    const fakes = startWorld(HELPER);
    fakes.github.files.clear();
    fakes.github.failNext("GET", CONFIG, () => json({ message: "Server Error" }, 500), 4);
    await callWorker(await signedWebhook("issue_comment", issueCommentPayload("@openhands-app fix it")), fakes.env);
    await runCron(fakes.env, minutes(2));
    expect((await records(fakes.env)).map((r) => r.kind)).toEqual(["received"]);
    fakes.github.failNext("GET", CONFIG, () => json({ message: "Server Error" }, 500), 100);
    await runCron(fakes.env, minutes(31));
    for (let tick = 1; tick <= 3; tick++) await runCron(fakes.env, minutes(31 + 2 * tick));
    expect((await records(fakes.env)).map((r) => r.kind)).toEqual(["succeeded"]);
  });

  it("a redelivery of a received event records nothing more", async () => {
    const fakes = startWorld(HELPER);
    fakes.github.failNext("GET", CONFIG, () => json({ message: "Server Error" }, 500), 4);
    const request = await signedWebhook("issue_comment", issueCommentPayload("@helper fix it"), { delivery: "d-1" });
    expect((await callWorker(request.clone(), fakes.env)).status).toBe(202);
    const again = await callWorker(request, fakes.env);
    expect(await again.json()).toMatchObject({ ok: true, duplicate: expect.any(String) });
    expect(await records(fakes.env)).toHaveLength(1);
  });
});
