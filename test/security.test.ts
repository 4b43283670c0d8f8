import { describe, expect, it } from "vitest";
import { taskMarker } from "../src/own-marker";
import { conversationIdFor } from "../src/tasks/ids";
import {
  callWorker,
  callWorkerWithoutWaiting,
  examplePayloads,
  issueCommentPayload,
  kvSnapshot,
  runCron,
  signedWebhook,
  type TestEnv,
} from "./support/harness";
import { startWorld, type World } from "./support/world";

/**
 * Who is served, and what an outsider can cause. The agent these requests start
 * pushes code with the operator's GitHub account and spends the operator's
 * OpenHands credits.
 */
type Fakes = World;

/** A comment by `sender` on `owner/repo`, where the sender is the repository's admin. */
function commentOn(owner: string, repo: string, sender: string, body = "@openhands-app fix the crash") {
  const payload = issueCommentPayload(body);
  payload.repository = {
    ...payload.repository,
    name: repo,
    full_name: `${owner}/${repo}`,
    owner: { ...payload.repository.owner, login: owner },
  };
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
    const fakes = startWorld({ role: null });
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
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("mallory", "admin");
    expect((await deliver(fakes, commentOn("mallory", "bait", "mallory"))).status).toBe(202);
    expect(starts(fakes)).toEqual([]);
    expect(fakes.github.find("GET", /\/collaborators\//)).toEqual([]);
    expect(await taskKeys(fakes.env)).toEqual([]);
  });

  it("the owner's own repositories are served", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "admin");
    expect((await deliver(fakes, commentOn("Codertocat", "Hello-World", "Codertocat"))).status).toBe(202);
    expect(starts(fakes)).toHaveLength(1);
  });

  it("ALLOWED_OWNERS names the accounts served; with MENTION and LABEL too, GitHub is not asked who the App is", async () => {
    const fakes = startWorld({
      role: null,
      env: { ALLOWED_OWNERS: " acme , Codertocat ", MENTION: "@openhands-app", LABEL: "openhands-app" },
    });
    fakes.github.permissions.set("codertocat", "admin");
    fakes.github.permissions.set("mallory", "admin");
    expect(await (await deliver(fakes, commentOn("mallory", "bait", "mallory"))).json()).toMatchObject({
      ignored: "account not served by this App",
    });
    expect((await deliver(fakes, commentOn("Codertocat", "Hello-World", "Codertocat"))).status).toBe(202);
    expect(starts(fakes)).toHaveLength(1);
    expect(fakes.github.find("GET", /^\/app$/)).toEqual([]);
  });

  it("ALLOWED_OWNERS alone: GitHub is asked for the App's slug, the default mention, once", async () => {
    const fakes = startWorld({ role: null, env: { ALLOWED_OWNERS: "Codertocat" } });
    fakes.github.permissions.set("codertocat", "admin");
    expect((await deliver(fakes, commentOn("Codertocat", "Hello-World", "Codertocat"))).status).toBe(202);
    const second = commentOn("Codertocat", "Hello-World", "Codertocat", "@openhands-app and more");
    second.comment.id += 1;
    second.issue.number = 2; // a second request on one thread would wait for the first
    expect((await deliver(fakes, second)).status).toBe(202);
    expect(starts(fakes)).toHaveLength(2);
    expect(fakes.github.find("GET", /^\/app$/)).toHaveLength(1);
  });
});

describe("the agent cannot start more agents", () => {
  const AGENT = "openhands-agent"; // the fake's git-info login: the OpenHands key owner's GitHub account
  const viaOpenHands = { id: 1008841, slug: "openhands-ai", name: "OpenHands AI", owner: { login: "All-Hands-AI" } };

  async function learnt(overrides: Partial<TestEnv> = {}) {
    const fakes = startWorld({ role: null, env: overrides });
    for (const login of ["codertocat", AGENT]) fakes.github.permissions.set(login, "write");
    await runCron(fakes.env); // learns the App's owner and the agent's account
    return fakes;
  }

  function pullRequestOpened(sender: string, head: string, body: string) {
    const payload = examplePayloads("pull_request").find((p) => p.action === "opened")!;
    payload.installation = { id: 5_100_001, node_id: "x" };
    payload.sender = { ...payload.sender, login: sender, type: "User" };
    payload.pull_request.user = { ...payload.pull_request.user, login: sender };
    payload.pull_request.head = { ...payload.pull_request.head, ref: head };
    payload.pull_request.body = body;
    payload.pull_request.author_association = "COLLABORATOR";
    payload.pull_request.performed_via_github_app = sender === AGENT ? viaOpenHands : null;
    return payload;
  }

  it("a PR the agent opened, quoting the request, starts nothing", async () => {
    const fakes = await learnt();
    const pr = pullRequestOpened(AGENT, "openhands/fix-crash", "Fixes #1.\n\n> @openhands-app fix the crash");
    expect((await callWorker(await signedWebhook("pull_request", pr), fakes.env)).status).toBeLessThan(300);
    expect(starts(fakes)).toEqual([]);
  });

  it("a PR from the agent's branch prefix starts nothing, whoever's account opened it", async () => {
    const fakes = await learnt();
    const pr = pullRequestOpened("Codertocat", "openhands/fix-crash", "@openhands-app also fix the docs");
    await callWorker(await signedWebhook("pull_request", pr), fakes.env);
    expect(starts(fakes)).toEqual([]);
  });

  it("a label the agent's account puts on an issue starts nothing", async () => {
    const fakes = await learnt();
    const payload = examplePayloads("issues").find((p) => p.action === "labeled")!;
    payload.installation = { id: 5_100_002, node_id: "x" };
    payload.label = { ...payload.label, name: "openhands-app" };
    payload.sender = { ...payload.sender, login: AGENT };
    await callWorker(await signedWebhook("issues", payload), fakes.env);
    expect(starts(fakes)).toEqual([]);
  });

  it("a comment the agent posts with the mention starts nothing; the same account typing in GitHub can still ask", async () => {
    const fakes = await learnt();
    const byAgent = commentOn("Codertocat", "Hello-World", AGENT, "Done. @openhands-app please review");
    byAgent.comment.performed_via_github_app = viaOpenHands;
    await deliver(fakes, byAgent);
    expect(starts(fakes)).toEqual([]);

    const typed = commentOn("Codertocat", "Hello-World", AGENT, "@openhands-app fix the crash");
    typed.comment.id += 1;
    typed.comment.performed_via_github_app = null;
    await deliver(fakes, typed);
    expect(starts(fakes)).toHaveLength(1);
  });

  it("AGENT_GITHUB_LOGIN names the account without asking OpenHands", async () => {
    const fakes = await learnt({ AGENT_GITHUB_LOGIN: "our-bot" });
    expect(fakes.openhands.find("GET", /git-info$/)).toEqual([]);
    const byBot = commentOn("Codertocat", "Hello-World", "our-bot", "@openhands-app go on");
    byBot.comment.performed_via_github_app = viaOpenHands;
    fakes.github.permissions.set("our-bot", "write");
    await deliver(fakes, byBot);
    expect(starts(fakes)).toEqual([]);
  });
});

describe("an outsider cannot spend the budget", () => {
  function fromOutsider(body: string, i: number, association = "NONE") {
    const payload = commentOn("Codertocat", "Hello-World", "mallory", body);
    payload.comment.author_association = association;
    payload.comment.id = 880_000 + i;
    return payload;
  }

  it("mentions, commands and edits from someone with no access write nothing, ask GitHub nothing, post nothing", async () => {
    const fakes = startWorld({ role: null });
    await runCron(fakes.env);
    const before = { github: fakes.github.requests.length, kv: (await kvSnapshot(fakes.env)).length };
    let i = 0;
    for (const association of ["NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "CONTRIBUTOR"]) {
      for (let k = 0; k < 5; k++)
        await deliver(fakes, fromOutsider(`@openhands-app do something ${i}`, i++, association));
    }
    for (let k = 0; k < 5; k++) await deliver(fakes, fromOutsider("@openhands-app help", i++));
    for (let k = 0; k < 5; k++) {
      const edit = fromOutsider(`@openhands-app now do this ${k}`, i++);
      edit.action = "edited";
      edit.changes = { body: { from: "nothing to see" } };
      await deliver(fakes, edit);
    }
    expect(fakes.github.requests.length).toBe(before.github);
    expect((await kvSnapshot(fakes.env)).length).toBe(before.kv);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 1)).toEqual([]);
    expect(starts(fakes)).toEqual([]);
  });

  it("a collaborator without write access hears it once a day, is asked about once, and leaves nothing in KV", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("mallory", "read");
    for (let i = 0; i < 6; i++)
      await deliver(
        fakes,
        fromOutsider(i % 3 === 2 ? "@openhands-app help" : `@openhands-app try ${i}`, i, "COLLABORATOR"),
      );
    const replies = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain("Sorry @mallory, only people with write");
    // the verdict is remembered for a while: later requests are turned away before anything is recorded
    expect(fakes.github.find("GET", /\/collaborators\/mallory\/permission$/)).toHaveLength(1);
    expect(await taskKeys(fakes.env)).toEqual([]);
    expect(starts(fakes)).toEqual([]);
  });

  it("an e-mail address or a URL with an @ is not a candidate: nothing is read or written", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "write");
    await runCron(fakes.env);
    const before = fakes.github.requests.length;
    for (const body of ["write to me@openhands.dev", "see https://mastodon.social/@openhands"]) {
      const response = await deliver(fakes, commentOn("Codertocat", "Hello-World", "Codertocat", body));
      expect(response.status).toBe(200);
    }
    expect(fakes.github.requests.length).toBe(before);
    expect(await taskKeys(fakes.env)).toEqual([]);
  });
});

describe("the tracking comment is always the App's own", () => {
  it("a comment carrying the predicted marker, written by someone else, is never adopted", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "write");
    const payload = commentOn("Codertocat", "Hello-World", "Codertocat");
    // Task ids follow from the trigger, so the marker can be predicted and posted ahead of time.
    const id = conversationIdFor(`issue_comment:${payload.comment.id}`);
    const bait = fakes.github.addComment("Codertocat", "Hello-World", 1, `Looks good ${taskMarker(id)}`, {
      login: "mallory",
      id: 666,
      type: "User",
    });
    await deliver(fakes, payload);
    for (let tick = 0; tick < 3; tick++) await runCron(fakes.env);
    expect(fakes.github.comments.get(bait.id)!.body).toBe(`Looks good ${taskMarker(id)}`);
    expect(fakes.github.find("PATCH", new RegExp(`/issues/comments/${bait.id}$`))).toEqual([]);
    const ours = fakes.github.commentsOn("Codertocat", "Hello-World", 1).filter((c) => c.user.type === "Bot");
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).toContain("OpenHands finished");
  });

  it("an edit GitHub refuses ends in a new comment with the result, not an endless retry", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "write");
    await deliver(fakes, commentOn("Codertocat", "Hello-World", "Codertocat"));
    fakes.github.failNext(
      "PATCH",
      /\/issues\/comments\/\d+$/,
      () => new Response(JSON.stringify({ message: "Resource not accessible by integration" }), { status: 403 }),
      100,
    );
    for (let tick = 0; tick < 3; tick++) await runCron(fakes.env);
    const [task] = (await taskKeys(fakes.env)).map((e) => JSON.parse(e.value!));
    expect(task.status).toBe("succeeded");
    const bodies = fakes.github.commentsOn("Codertocat", "Hello-World", 1).map((c) => c.body);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toContain("OpenHands finished");
  });
});

describe("operator pitfalls", () => {
  it("a webhook secret pasted with a trailing newline still verifies GitHub's signatures", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "write");
    const env = { ...fakes.env, GITHUB_WEBHOOK_SECRET: `${fakes.env.GITHUB_WEBHOOK_SECRET}\n` };
    expect((await deliver(fakes, commentOn("Codertocat", "Hello-World", "Codertocat"), env)).status).toBe(202);
  });

  it("a webhook secret too short to resist guessing is refused as a configuration error", async () => {
    const fakes = startWorld({ role: null });
    const env = { ...fakes.env, GITHUB_WEBHOOK_SECRET: "short" };
    const request = await signedWebhook("issue_comment", commentOn("Codertocat", "Hello-World", "Codertocat"), {
      secret: "short",
    });
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => logged.push(line);
    try {
      expect((await callWorker(request, env)).status).toBe(500);
    } finally {
      console.error = original;
    }
    expect(logged.join("\n")).toContain("GITHUB_WEBHOOK_SECRET must be at least 16 characters");
  });

  it("plain http is refused for the upstreams, except on this machine", async () => {
    const fakes = startWorld({ role: null });
    const payload = commentOn("Codertocat", "Hello-World", "Codertocat");
    const remote = { ...fakes.env, OPENHANDS_BASE_URL: "http://app.all-hands.dev" };
    expect((await deliver(fakes, payload, remote)).status).toBe(500);
    const local = { ...fakes.env, GITHUB_API_URL: "http://127.0.0.1:9" };
    const { loadConfig } = await import("../src/config");
    expect(loadConfig(local).githubApiUrl).toBe("http://127.0.0.1:9");
  });

  it("an unsigned caller learns nothing about a broken configuration", async () => {
    const fakes = startWorld({ role: null });
    const broken = { ...fakes.env, OPENHANDS_API_KEY: "" };
    const unsigned = await signedWebhook("issue_comment", commentOn("Codertocat", "Hello-World", "Codertocat"), {
      signature: null,
    });
    const response = await callWorker(unsigned, broken);
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain("configured");
  });

  it("a body without Content-Length is cut off at 25 MB as it streams in", async () => {
    const fakes = startWorld({ role: null });
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 30) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const request = new Request("https://worker.example/api/github/webhooks", {
      method: "POST",
      headers: { "x-github-event": "issue_comment", "x-hub-signature-256": "sha256=00" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(request.headers.get("content-length")).toBeNull();
    expect((await callWorker(request, fakes.env)).status).toBe(413);
    expect(sent).toBeLessThan(30);
  });
});

describe("replays of a captured signed delivery", () => {
  it("a request made more than seven days before it arrives is refused; a recent redelivery still works", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "write");
    await runCron(fakes.env);
    const old = commentOn("Codertocat", "Hello-World", "Codertocat");
    old.comment.created_at = new Date(Date.now() - 8 * 24 * 3600_000).toISOString();
    const request = await signedWebhook("issue_comment", old, { keepTimes: true });
    await callWorker(request.clone(), fakes.env);
    expect(starts(fakes)).toEqual([]);
    expect(await taskKeys(fakes.env)).toEqual([]);
    // once the repository's config is known, the answer says why at once
    expect(await (await callWorker(request, fakes.env)).json()).toMatchObject({
      ignored: "the request was made more than seven days before it arrived",
    });

    const recent = commentOn("Codertocat", "Hello-World", "Codertocat");
    recent.comment.id += 1;
    recent.comment.created_at = new Date(Date.now() - 6 * 24 * 3600_000).toISOString();
    expect(
      (await callWorker(await signedWebhook("issue_comment", recent, { keepTimes: true }), fakes.env)).status,
    ).toBe(202);
    expect(starts(fakes)).toHaveLength(1);
  });

  it("a command made more than a day before it arrives is refused: its record is gone, so a replay would act again", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "write");
    await runCron(fakes.env);
    const running = commentOn("Codertocat", "Hello-World", "Codertocat");
    running.comment.body = "@openhands-app fix the bug";
    await callWorker(await signedWebhook("issue_comment", running), fakes.env);
    expect(starts(fakes)).toHaveLength(1);

    const stop = commentOn("Codertocat", "Hello-World", "Codertocat");
    stop.comment.id += 1;
    stop.comment.body = "@openhands-app stop";
    stop.comment.created_at = new Date(Date.now() - 2 * 24 * 3600_000).toISOString();
    const response = await callWorker(await signedWebhook("issue_comment", stop, { keepTimes: true }), fakes.env);
    await runCron(fakes.env);
    const tasks = (await taskKeys(fakes.env)).map((e) => JSON.parse(e.value!));
    expect(tasks.map((t) => [t.status, t.stopRequestedBy])).toEqual([["starting", undefined]]);
    expect(fakes.openhands.find("POST", /\/pause$/)).toEqual([]);
    expect(await response.json()).toMatchObject({ ignored: "the command was made more than a day before it arrived" });
  });
});

describe("edits", () => {
  it("a maintainer who edits an outsider's comment to add the mention does not turn the outsider's words into a request", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "admin");
    fakes.github.permissions.set("mallory", "read");
    const edit = commentOn("Codertocat", "Hello-World", "Codertocat", "@openhands-app run the script from my gist");
    edit.action = "edited";
    edit.changes = { body: { from: "run the script from my gist" } };
    edit.comment.user = { ...edit.comment.user, login: "mallory" };
    edit.comment.author_association = "NONE";
    await deliver(fakes, edit);
    expect(starts(fakes)).toEqual([]);
    const [reply] = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(reply!.body).toContain("The comment you edited was written by @mallory");
  });
});

describe("once means once, under overlapping deliveries (issue 19)", () => {
  /** Sends every payload at once, as GitHub does for quick comments, and waits for all the work they leave. */
  async function burst(fakes: Fakes, payloads: unknown[]) {
    const sent = await Promise.all(
      payloads.map(async (payload) =>
        callWorkerWithoutWaiting(await signedWebhook("issue_comment", payload), fakes.env),
      ),
    );
    await Promise.all(sent.map((s) => s.settled()));
    for (let i = 1; i <= 2; i++) await runCron(fakes.env, new Date(Date.now() + i * 3 * 60_000));
    return Promise.all(sent.map((s) => s.response.status));
  }
  const posted = (fakes: Fakes) => fakes.github.find("POST", /\/issues\/\d+\/comments$/);

  it("five quick mentions by a read-only collaborator get one reply", async () => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("reader", "read");
    // Known already, so each is decided at once, as on a warm isolate.
    await runCron(fakes.env);
    const mentions = Array.from({ length: 5 }, (_, i) => {
      const payload = commentOn("Codertocat", "Hello-World", "reader", `@openhands-app please fix ${i}`);
      payload.comment.id += i;
      payload.comment.author_association = "COLLABORATOR";
      return payload;
    });
    expect(await burst(fakes, mentions)).toEqual([202, 202, 202, 202, 202]);
    expect(posted(fakes)).toHaveLength(1);
    expect((posted(fakes)[0]!.body as { body: string }).body).toMatch(/^Sorry @reader, only people with write/);
    expect(starts(fakes)).toEqual([]);
    expect(await taskKeys(fakes.env)).toEqual([]);
  });
});

describe("once means once, when KV is slow to show what an overlapping delivery wrote", () => {
  /** KV as seen from another request: every read lags a moment behind the writes. */
  function laggingKv(kv: KVNamespace): KVNamespace {
    return new Proxy(kv, {
      get(target, name) {
        const value = Reflect.get(target, name, target);
        if (name !== "get" || typeof value !== "function")
          return typeof value === "function" ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          const read = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          await new Promise((resolve) => setTimeout(resolve, 20));
          return read;
        };
      },
    });
  }

  it.each([
    ["a help", "@openhands-app help", 1, 0],
    ["a request", "@openhands-app fix the crash", 1, 1],
  ])("%s delivered three times at once is answered once", async (_, body, comments, conversations) => {
    const fakes = startWorld({ role: null });
    fakes.github.permissions.set("codertocat", "admin");
    await runCron(fakes.env);
    const env = { ...fakes.env, TASKS: laggingKv(fakes.env.TASKS) };
    const payload = commentOn("Codertocat", "Hello-World", "Codertocat", body);
    const sent = await Promise.all(
      [0, 1, 2].map(async () => callWorkerWithoutWaiting(await signedWebhook("issue_comment", payload), env)),
    );
    await Promise.all(sent.map((s) => s.settled()));
    await runCron(env, new Date(Date.now() + 3 * 60_000));
    expect(fakes.github.find("POST", /\/issues\/\d+\/comments$/)).toHaveLength(comments);
    expect(starts(fakes)).toHaveLength(conversations);
  });
});
