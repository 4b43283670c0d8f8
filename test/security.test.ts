import { describe, expect, it } from "vitest";
import { FakeOpenHands } from "./fakes/openhands";
import { callWorker, issueCommentPayload, kvSnapshot, runCron, signedWebhook, startFakes, type TestEnv } from "./harness";

/**
 * Who is served, and what an outsider can cause. The agent these requests start
 * pushes code with the operator's GitHub account and spends the operator's
 * OpenHands credits.
 */
type Fakes = ReturnType<typeof startFakes>;

function setup(overrides: Partial<TestEnv> = {}): Fakes {
  const fakes = startFakes(overrides);
  fakes.openhands.nextScript = { ...FakeOpenHands.defaultScript(), startSteps: ["WORKING"], execution: ["running", "finished"] };
  return fakes;
}

/** A comment by `sender` on `owner/repo`, where the sender is the repository's admin. */
function commentOn(owner: string, repo: string, sender: string, body = "@openhands fix the crash") {
  const payload = issueCommentPayload(body);
  payload.repository = { ...payload.repository, name: repo, full_name: `${owner}/${repo}`, owner: { ...payload.repository.owner, login: owner } };
  payload.sender = { ...payload.sender, login: sender };
  payload.comment.user = { ...payload.comment.user, login: sender };
  payload.comment.author_association = "OWNER";
  return payload;
}

async function deliver(fakes: Fakes, payload: unknown, env: TestEnv = fakes.env) {
  return callWorker(await signedWebhook("issue_comment", payload), env);
}

const starts = (fakes: Fakes) => fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/);
const taskKeys = async (env: TestEnv) => (await kvSnapshot(env)).filter((e) => e.name.startsWith("task:"));

describe("which accounts are served", () => {
  it("by default only the account that owns the App: a stranger's installation starts nothing", async () => {
    const fakes = setup();
    fakes.github.permissions.set("mallory", "admin");
    // the App's owner is learnt once (the cron does it; here the first tick)
    await runCron(fakes.env);
    const before = fakes.github.requests.length;
    const response = await deliver(fakes, commentOn("mallory", "bait", "mallory"));
    expect(await response.json()).toEqual({ ok: true, ignored: "account not served by this App" });
    expect(starts(fakes)).toEqual([]);
    // ignored before any GitHub call or KV write
    expect(fakes.github.requests.length).toBe(before);
    expect(await taskKeys(fakes.env)).toEqual([]);
  });

  it("before the owner is known, a stranger's event is held, then dropped once GitHub says who owns the App", async () => {
    const fakes = setup();
    fakes.github.permissions.set("mallory", "admin");
    expect((await deliver(fakes, commentOn("mallory", "bait", "mallory"))).status).toBe(202);
    expect(starts(fakes)).toEqual([]);
    expect(fakes.github.find("GET", /\/collaborators\//)).toEqual([]);
    expect(await taskKeys(fakes.env)).toEqual([]);
  });

  it("the owner's own repositories are served", async () => {
    const fakes = setup();
    fakes.github.permissions.set("codertocat", "admin");
    expect((await deliver(fakes, commentOn("Codertocat", "Hello-World", "Codertocat"))).status).toBe(202);
    expect(starts(fakes)).toHaveLength(1);
  });

  it("ALLOWED_OWNERS names the accounts served, and GitHub is not asked", async () => {
    const fakes = setup({ ALLOWED_OWNERS: " acme , Codertocat " });
    fakes.github.permissions.set("codertocat", "admin");
    fakes.github.permissions.set("mallory", "admin");
    expect(await (await deliver(fakes, commentOn("mallory", "bait", "mallory"))).json()).toMatchObject({ ignored: "account not served by this App" });
    expect((await deliver(fakes, commentOn("Codertocat", "Hello-World", "Codertocat"))).status).toBe(202);
    expect(starts(fakes)).toHaveLength(1);
    expect(fakes.github.find("GET", /^\/app$/)).toEqual([]);
  });
});
