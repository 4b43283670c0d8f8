import { beforeEach, describe, expect, it } from "vitest";
import {
  callWorker,
  effectfulGitHubCalls,
  examplePayloads,
  issueCommentPayload,
  kvSnapshot,
  runCron,
  signedWebhook,
} from "./support/harness";
import { startWorld, type World, type WorldOptions } from "./support/world";

/**
 * OpenHands' own GitHub App is installed wherever the agent works (OpenHands
 * Cloud clones and pushes through it) and answers `@openhands` and the label
 * `openhands` with an agent of its own. By default this App answers its own
 * name instead, so that one request never gets two agents; the harness checks,
 * after every test, that nothing this App posts would set that App off.
 */
let fakes: World;

const FINISHES: WorldOptions = { script: { execution: ["finished"] } };

let commentId = 7_700_000_000;
async function say(body: string) {
  const payload = issueCommentPayload(body);
  payload.comment.id = commentId++;
  return callWorker(await signedWebhook("issue_comment", payload), fakes.env);
}

async function label(name: string) {
  const payload = examplePayloads("issues").find((p) => p.action === "labeled")!;
  payload.installation = { id: 7_700_001, node_id: "x" };
  payload.label = { ...payload.label, name };
  // Another issue than the comments': a second request on one thread waits for the first.
  payload.issue.number = 2;
  return callWorker(await signedWebhook("issues", payload), fakes.env);
}

const starts = () => fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/);
const taskKeys = async () => (await kvSnapshot(fakes.env)).filter((e) => e.name.startsWith("task:"));

describe("by default the App answers its own name, and leaves @openhands to OpenHands' own App", () => {
  beforeEach(() => (fakes = startWorld(FINISHES)));

  it("@openhands and the label openhands start nothing, post nothing and keep nothing", async () => {
    // The first delivery learns the App's slug (GET /app) after answering; the next ones know it.
    expect((await say("@openhands fix the parser")).status).toBe(202);
    expect(await (await say("@OpenHands, fix the parser")).json()).toEqual({ ok: true, ignored: "no mention" });
    expect(await (await label("openhands")).json()).toEqual({ ok: true, ignored: "not the trigger label" });
    await runCron(fakes.env);
    expect(starts()).toEqual([]);
    expect(effectfulGitHubCalls(fakes.github)).toEqual([]);
    expect(await taskKeys()).toEqual([]);
  });

  it("@<slug> and the label <slug> start the agent", async () => {
    expect((await say("@openhands-app fix the parser")).status).toBe(202);
    expect((await label("openhands-app")).status).toBe(202);
    await runCron(fakes.env);
    expect(starts()).toHaveLength(2);
    expect(fakes.github.find("GET", /^\/app$/)).toHaveLength(1);
  });

  it("the agent's words are posted with @openhands broken, code included, so they start no second agent", async () => {
    fakes.openhands.nextScript = {
      ...fakes.openhands.nextScript,
      finalMessage: "Done. @openhands please review, and run `@openhands test` or\n```\n@OpenHands deploy\n```",
    };
    await say("@openhands-app fix the parser");
    for (let i = 0; i < 3; i++) await runCron(fakes.env);
    const posted = fakes.github.commentsOn("Codertocat", "Hello-World", 1).map((c) => c.body);
    const result = posted.find((body) => body.startsWith("✅"))!;
    expect(result).toContain("`@\u2060openhands` please review");
    expect(result).toContain("`@\u2060openhands test`");
    expect(result).toContain("@\u2060OpenHands deploy");
    expect(result).not.toMatch(/@openhands/i);
  });
});

describe("MENTION=@openhands and LABEL=openhands, set by the operator", () => {
  beforeEach(() => (fakes = startWorld({ ...FINISHES, env: { MENTION: "@openhands", LABEL: "openhands" } })));

  it("start the agent", async () => {
    expect(await (await say("@openhands fix the parser")).json()).toMatchObject({ received: expect.any(String) });
    expect((await label("openhands")).status).toBe(202);
    await runCron(fakes.env);
    expect(starts()).toHaveLength(2);
  });

  it("help names the mention with it broken, and says OpenHands' own App answers it too", async () => {
    await say("@openhands help");
    const [help] = fakes.github.find("POST", /\/issues\/1\/comments$/).map((r) => (r.body as { body: string }).body);
    expect(help).toContain("Mention `@\u2060openhands` with a request");
    expect(help).toContain("add the `openhands` label");
    expect(help).toContain("OpenHands' own GitHub App answers this mention and label too");
    expect(help).not.toMatch(/@openhands/i);
    expect(starts()).toEqual([]);
  });
});

describe("a repository's .github/openhands.yml still chooses its own words", () => {
  it("overrides the deployment's mention and label", async () => {
    fakes = startWorld({ ...FINISHES, env: { MENTION: "@team-bot" } });
    fakes.github.files.set("Codertocat/Hello-World:.github/openhands.yml", "mention: '@helper'\nlabel: agent\n");
    await say("@team-bot fix it");
    await say("@helper fix it");
    await label("agent");
    await runCron(fakes.env);
    expect(starts()).toHaveLength(2);
  });
});
