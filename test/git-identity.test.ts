import { beforeEach, describe, expect, it } from "vitest";
import { callWorker, issueCommentPayload, kvSnapshot, runCron } from "./support/harness";
import { quickScript, startWorld, type World } from "./support/world";

/**
 * GIT_IDENTITY=app: the agent clones, pushes and opens pull requests as this
 * App, with a token the Worker mints for the one repository. From the
 * service's source: OpenHands would clone `selected_repository` with the key
 * owner's login, so none is sent; the request's `secrets` win over the key
 * owner's GITHUB_TOKEN, and are echoed back masked.
 */
const MIN = 60_000;
const START = /^\/api\/v1\/app-conversations$/;
let fakes: World;

beforeEach(() => {
  fakes = startWorld({ env: { GIT_IDENTITY: "app" }, script: { execution: ["running"] } });
  fakes.github.installationPermissions.contents = "write";
  fakes.github.pulls.set(2, { ref: "fix;rm -rf ~", repository: "Codertocat/Hello-World", baseRef: "master" });
});

let commentId = 8_800_000_000;
async function ask(body: string, options: { pullRequest?: boolean } = {}) {
  const payload = issueCommentPayload(body, options);
  payload.comment.id = commentId++;
  if (options.pullRequest) payload.issue.number = 2;
  return fakes.deliver("issue_comment", payload);
}

function startBody() {
  const [start] = fakes.openhands.find("POST", START);
  expect(start, "a start request").toBeDefined();
  return start!.body as Record<string, any>;
}

describe("GIT_IDENTITY=app", () => {
  it("starts with a token for the one repository as GITHUB_TOKEN, names no repository, and the token is nowhere else", async () => {
    expect((await ask("@openhands-app fix the parser")).status).toBe(202);
    const body = startBody();
    expect(body).not.toHaveProperty("selected_repository");
    expect(body).not.toHaveProperty("selected_branch");
    expect(body).not.toHaveProperty("git_provider");
    const token: string = body.secrets.GITHUB_TOKEN;
    expect(Object.keys(body.secrets)).toEqual(["GITHUB_TOKEN"]);
    expect(fakes.github.issuedTokens.has(token)).toBe(true);
    expect(fakes.github.tokenScopes.get(token)).toEqual({
      repositories: ["Hello-World"],
      permissions: { contents: "write", pull_requests: "write", issues: "write" },
    });
    // The agent gets it once its conversation exists; OpenHands echoes it masked.
    await runCron(fakes.env);
    const conversationId = String(body.conversation_id).replace(/-/g, "");
    expect(fakes.openhands.agentSecretsOf(conversationId).GITHUB_TOKEN).toBe(token);
    const [task] = [...fakes.openhands.startTasks.values()];
    expect(task!.request.secrets).toEqual({ GITHUB_TOKEN: "**********" });

    const rules: string = body.system_message_suffix;
    expect(rules).toContain("You work on GitHub as the GitHub App openhands-app[bot]");
    expect(rules).toContain("`git clone https://x-access-token:$GITHUB_TOKEN@github.com/Codertocat/Hello-World.git`");
    expect(rules).toContain('`git config user.email "41898282+openhands-app[bot]@users.noreply.github.com"`');
    expect(rules).toContain("Never use the create_pr tool");
    // Only the name travels in text: not in the prompt, the rules, KV or any comment.
    const prompt: string = body.initial_message.content[0].text;
    const everywhere = [
      prompt,
      rules,
      ...(await kvSnapshot(fakes.env)).map((e) => e.value ?? ""),
      ...[...fakes.github.comments.values()].map((c) => c.body),
    ].join("\n");
    expect(everywhere).not.toContain(token);
    expect(prompt).not.toContain("GITHUB_TOKEN");
  });

  it("on a pull request, clones its branch, quoted for the shell", async () => {
    await ask("@openhands-app fix the review comments", { pullRequest: true });
    expect(startBody().system_message_suffix).toContain(
      "`git clone --branch 'fix;rm -rf ~' https://x-access-token:$GITHUB_TOKEN@github.com/Codertocat/Hello-World.git`",
    );
  });

  it("renews the token every 20 minutes of the run on the agent-server, each a new one-repository token", async () => {
    await ask("@openhands-app fix the parser");
    const body = startBody();
    const conversationId = String(body.conversation_id).replace(/-/g, "");
    const first: string = body.secrets.GITHUB_TOKEN;
    const startedAt = Date.now();
    const updates = () => fakes.openhands.find("POST", /^\/api\/conversations\/[0-9a-f]{32}\/secrets$/);

    await runCron(fakes.env, new Date(startedAt + 10 * MIN));
    expect(updates()).toEqual([]);
    await runCron(fakes.env, new Date(startedAt + 20 * MIN + 10_000));
    expect(updates()).toHaveLength(1);
    expect(updates()[0]!.headers["x-session-api-key"]).toBe(fakes.openhands.sessionKey);
    const second = fakes.openhands.agentSecretsOf(conversationId).GITHUB_TOKEN!;
    expect(second).not.toBe(first);
    expect(fakes.github.tokenScopes.get(second)?.repositories).toEqual(["Hello-World"]);
    // Not again within the window; again in the next one.
    await runCron(fakes.env, new Date(startedAt + 24 * MIN));
    expect(updates()).toHaveLength(1);
    await runCron(fakes.env, new Date(startedAt + 40 * MIN + 10_000));
    expect(updates()).toHaveLength(2);
    expect(JSON.stringify((await kvSnapshot(fakes.env)).map((e) => e.value))).not.toContain(second);
  });

  it("an installation without Contents write fails the request at once, saying what to change, and starts nothing", async () => {
    fakes.github.installationPermissions.contents = "read";
    await ask("@openhands-app fix the parser");
    expect(fakes.openhands.find("POST", START)).toEqual([]);
    const [comment] = fakes.github.commentsOn("Codertocat", "Hello-World", 1).map((c) => c.body);
    expect(comment).toMatch(/^❌ \*\*OpenHands could not complete this request\*\*/);
    expect(comment).toContain(
      "GitHub would not give the agent a token for Hello-World (GIT_IDENTITY=app needs the App's Contents, Pull requests and Issues permissions set to read and write",
    );
    const [task] = await fakes.tasks();
    expect(task).toMatchObject({ status: "failed", attempts: 1 });
  });
});

describe("GIT_IDENTITY unset (openhands)", () => {
  it("lets OpenHands clone with the key owner's login: the repository named, no secret sent", async () => {
    fakes = startWorld();
    await ask("@openhands-app fix the parser");
    const body = startBody();
    expect(body).toMatchObject({ selected_repository: "Codertocat/Hello-World", git_provider: "github" });
    expect(body).not.toHaveProperty("secrets");
    expect(body).not.toHaveProperty("system_message_suffix");
  });

  it("GIT_IDENTITY must be openhands or app", async () => {
    const health = await callWorker(new Request("https://worker.example/healthz"), {
      ...fakes.env,
      GIT_IDENTITY: "me",
    });
    expect(health.status).toBe(503);
    expect((await health.json<{ problems: string[] }>()).problems).toEqual([
      "GIT_IDENTITY must be one of: openhands, app",
    ]);
  });
});

describe("GIT_IDENTITY=app: the agent's token leaks nowhere", () => {
  it("not through a refused start that quotes it, a failed run, logs, comments, KV or answers", async () => {
    const lines: string[] = [];
    const originals = { log: console.log, warn: console.warn, error: console.error };
    for (const level of ["log", "warn", "error"] as const)
      console[level] = (...args: unknown[]) => lines.push(args.map(String).join(" "));
    const answers: string[] = [];
    try {
      // OpenHands refuses the first start with a validation error quoting what it was sent, secrets included.
      fakes.openhands.failNext("POST", START, () => {
        const sent = fakes.openhands.find("POST", START).at(-1)!.body as Record<string, any>;
        return Response.json(
          { detail: [{ type: "value_error", loc: ["body", "secrets"], msg: "bad", input: sent.secrets }] },
          { status: 422 },
        );
      });
      answers.push(await (await ask("@openhands-app fix the parser")).text());
      // A second request starts, and its agent prints the token it holds before failing.
      fakes.openhands.nextScript = quickScript({ execution: ["running", "error"] });
      const payload = issueCommentPayload("@openhands-app fix the other bug");
      payload.issue.number = 3;
      answers.push(await (await fakes.deliver("issue_comment", payload)).text());
      await runCron(fakes.env);
      for (const [id, conversation] of fakes.openhands.conversations) {
        const held = fakes.openhands.agentSecretsOf(id).GITHUB_TOKEN;
        conversation.script.finalMessage = `My token is ${held}`;
      }
      for (let i = 1; i <= 3; i++) await runCron(fakes.env, new Date(Date.now() + i * 3 * MIN));
    } finally {
      Object.assign(console, originals);
    }
    const tokens = [...fakes.github.tokenScopes.keys()];
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const visible = [
      ...lines,
      ...answers,
      ...(await kvSnapshot(fakes.env)).map((e) => e.value ?? ""),
      ...[...fakes.github.comments.values()].map((c) => c.body),
    ].join("\n");
    for (const token of tokens) expect(visible).not.toContain(token);
    expect(visible).toContain("[redacted]");
  });
});
