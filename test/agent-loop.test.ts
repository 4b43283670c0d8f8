import { describe, expect, it } from "vitest";
import {
  callWorker,
  examplePayloads,
  issueCommentPayload,
  kvSnapshot,
  runCron,
  signedWebhook,
} from "./support/harness";
import { startWorld, type World, type WorldOptions } from "./support/world";

/**
 * The agent-loop guard (trigger/actor.ts): what the agent's account writes through an App, and
 * any label it puts, starts nothing. It holds from the first request after a deploy, before any
 * cron has learnt the account from OpenHands: an event the guard could refuse waits for the account.
 */
type Fakes = World;

const AGENT = "openhands-agent"; // the fake's git-info login: the OpenHands key owner's GitHub account
const viaOpenHands = { id: 1008841, slug: "openhands-ai", name: "OpenHands AI", owner: { login: "All-Hands-AI" } };

const AGENT_WRITES: WorldOptions = { script: { execution: ["running"] }, roles: { [AGENT]: "write" } };

let nextId = 770_000_001;
/** A comment on issue #1; `byAgent`: posted by the agent through OpenHands' GitHub App. */
function comment(sender: string, body: string, byAgent: boolean) {
  const payload = issueCommentPayload(body, { installationId: 5_200_001 });
  payload.sender = { ...payload.sender, login: sender };
  payload.comment.user = { ...payload.comment.user, login: sender };
  payload.comment.id = nextId++;
  payload.comment.author_association = "COLLABORATOR";
  payload.comment.performed_via_github_app = byAgent ? viaOpenHands : null;
  return payload;
}

function label(sender: string, issue: number) {
  const payload = examplePayloads("issues").find((p) => p.action === "labeled")!;
  payload.installation = { id: 5_200_002, node_id: "x" };
  payload.label = { ...payload.label, name: "openhands-app" };
  payload.sender = { ...payload.sender, login: sender };
  payload.issue.number = issue;
  return payload;
}

const starts = (fakes: Fakes) => fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/);
const gitInfoReads = (fakes: Fakes) => fakes.openhands.find("GET", /\/users\/git-info$/);
const receivedKeys = async (fakes: Fakes) =>
  (await kvSnapshot(fakes.env)).filter((e) => (e.metadata as { s?: string } | null)?.s === "received");

describe("the agent-loop guard, before any cron", () => {
  it("the very first request after a deploy, the agent's comment with the mention, starts nothing; the account typing still asks", async () => {
    const fakes = startWorld(AGENT_WRITES);
    await callWorker(
      await signedWebhook("issue_comment", comment(AGENT, "Done. @openhands-app please review", true)),
      fakes.env,
    );
    expect(starts(fakes)).toEqual([]);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 1)).toEqual([]);
    expect(gitInfoReads(fakes)).toHaveLength(1);

    // the same account typing in GitHub's own UI still asks
    const typed = comment(AGENT, "@openhands-app fix the crash", false);
    typed.issue.number = 4;
    await callWorker(await signedWebhook("issue_comment", typed), fakes.env);
    expect(starts(fakes)).toHaveLength(1);
  });

  it("decided at once (config and words known), the agent's comment still waits for its account and starts nothing", async () => {
    const fakes = startWorld(AGENT_WRITES);
    // a person's request first: the config and the App's words are learnt, the agent's account is not needed
    await callWorker(
      await signedWebhook("issue_comment", comment("Codertocat", "@openhands-app fix it", false)),
      fakes.env,
    );
    expect(starts(fakes)).toHaveLength(1);
    expect(gitInfoReads(fakes)).toEqual([]);

    const byAgent = comment(AGENT, "Opened a PR. @openhands-app, anything else?", true);
    byAgent.issue.number = 2;
    await callWorker(await signedWebhook("issue_comment", byAgent), fakes.env);
    expect(starts(fakes)).toHaveLength(1);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 2)).toEqual([]);
  });

  it("a label the agent's account puts, first thing after a deploy, starts nothing", async () => {
    const fakes = startWorld(AGENT_WRITES);
    await callWorker(await signedWebhook("issues", label(AGENT, 3)), fakes.env);
    expect(starts(fakes)).toEqual([]);
  });

  it("while OpenHands cannot say whose account it is, the agent's comments wait (asked once a minute), then are refused", async () => {
    const fakes = startWorld(AGENT_WRITES);
    fakes.openhands.gitLogin = null; // 403 "Git provider not connected"
    for (let i = 0; i < 4; i++) {
      const byAgent = comment(AGENT, `Step ${i} done. @openhands-app go on`, true);
      byAgent.issue.number = 10 + i;
      await callWorker(await signedWebhook("issue_comment", byAgent), fakes.env);
    }
    expect(starts(fakes)).toEqual([]);
    expect(gitInfoReads(fakes)).toHaveLength(1);
    expect(await receivedKeys(fakes)).toHaveLength(4);

    fakes.openhands.gitLogin = AGENT;
    await runCron(fakes.env, new Date(Date.now() + 3 * 60_000));
    expect(starts(fakes)).toEqual([]);
    expect(await receivedKeys(fakes)).toEqual([]);
  });
});
