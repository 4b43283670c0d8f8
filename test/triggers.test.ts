import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_REPO_CONFIG, parseRepoConfig } from "../src/repo-config/parse";
import { decideEvent } from "../src/trigger/decide-event";
import type { FakeComment } from "./support/fakes/github";
import { DEPLOYMENT } from "./support/fixtures";
import { callWorker, examplePayloads, runCron, signedWebhook } from "./support/harness";
import { startWorld, type World } from "./support/world";

/** Every place a maintainer can ask from, each with GitHub's own example payload adapted. */
let fakes: World;
let installationId = 8_100_000;
beforeEach(() => {
  fakes = startWorld();
  fakes.github.pulls.set(2, { ref: "changes", repository: "Codertocat/Hello-World", baseRef: "master" });
});

function example(event: string, action: string, change: (p: Record<string, any>) => void = () => {}) {
  const payload = examplePayloads(event).find((p) => p.action === action)!;
  payload.installation = { id: installationId++, node_id: "x" };
  change(payload);
  return payload;
}

async function send(event: string, payload: unknown) {
  return callWorker(await signedWebhook(event, payload), fakes.env);
}

function started() {
  return fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/).map((r) => r.body as Record<string, any>);
}

/**
 * The prompt a start sent, with its fence key (random for each prompt) written
 * as `NONCE` so that golden prompts stay stable, once every fence tag is seen
 * to carry that one key.
 */
function promptOf(start: Record<string, any>): string {
  const prompt: string = start.initial_message.content[0].text;
  const nonce = prompt.match(/tags that end in `-([0-9a-f]+)`/)?.[1];
  expect(nonce).toMatch(/^[0-9a-f]{16}$/);
  expect(prompt.match(/<\/?[a-z_]+-[0-9a-f]+\b/g)!.every((tag) => tag.endsWith(`-${nonce}`))).toBe(true);
  return prompt.replaceAll(nonce!, "NONCE");
}

async function finish() {
  for (let i = 0; i < 3; i++) await runCron(fakes.env);
  const tasks = await fakes.tasks();
  expect(tasks.map((t) => t.status)).toEqual(["succeeded"]);
  expect(await fakes.received()).toEqual([]);
}

describe("inline review comment (pull_request_review_comment.created)", () => {
  it("works on the PR branch with the file, line and hunk, and answers in the review thread", async () => {
    const payload = example("pull_request_review_comment", "created", (p) => {
      p.comment.body = "@openhands-app rename this heading to match the project name";
      p.comment.line = 1;
    });
    fakes.github.addReviewComment(
      "Codertocat",
      "Hello-World",
      2,
      payload.comment.body,
      { login: "Codertocat", id: 21031067, type: "User" },
      undefined,
      payload.comment.id,
    );

    expect((await send("pull_request_review_comment", payload)).status).toBe(202);
    expect(fakes.github.reactions).toEqual([
      { owner: "Codertocat", repo: "Hello-World", subject: "review_comment", id: payload.comment.id, content: "eyes" },
    ]);
    const [start] = started();
    expect(start!.selected_branch).toBe("changes");
    const prompt = promptOf(start!);
    expect(prompt).toContain("in an inline review comment on GitHub pull request #2");
    expect(prompt).toContain("`README.md`, line 1");
    expect(prompt).toContain("@@ -1 +1 @@\n-# Hello-World");
    expect(prompt).toContain("rename this heading to match the project name");

    const replies = [...fakes.github.reviewComments.values()].filter((c) => c.in_reply_to_id === payload.comment.id);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain("OpenHands is working on it");
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 2)).toEqual([]);

    await finish();
    expect(replies[0]!.body).toContain("OpenHands finished");
    expect(fakes.github.find("PATCH", /\/pulls\/comments\/\d+$/)).toHaveLength(1);
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 2)).toEqual([]);
  });
});

describe("review body (pull_request_review.submitted)", () => {
  it("starts on the PR branch and reacts on the PR", async () => {
    const payload = example(
      "pull_request_review",
      "submitted",
      (p) => (p.review.body = "Looks close. @openhands-app please address the nits above."),
    );
    expect((await send("pull_request_review", payload)).status).toBe(202);
    expect(fakes.github.reactions.map((r) => [r.subject, r.id])).toEqual([["issue", 2]]);
    const [start] = started();
    expect(start!.selected_branch).toBe("changes");
    expect(promptOf(start!)).toContain("in a review of GitHub pull request #2");
    await finish();
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 2)[0]!.body).toContain("OpenHands finished");
  });

  it("a review without the mention starts nothing", async () => {
    const payload = example("pull_request_review", "submitted", (p) => (p.review.body = "LGTM"));
    expect(await (await send("pull_request_review", payload)).json()).toEqual({ ok: true, ignored: "no mention" });
    expect(fakes.github.requests).toEqual([]);
  });
});

describe("opened with the mention in the body (issues.opened, pull_request.opened)", () => {
  it("an issue: the body is the request", async () => {
    const payload = example(
      "issues",
      "opened",
      (p) => (p.issue.body = "The README is misspelled.\n\n@openhands-app please fix the spelling of 'commit'."),
    );
    expect((await send("issues", payload)).status).toBe(202);
    expect(fakes.github.reactions.map((r) => [r.subject, r.id])).toEqual([["issue", 1]]);
    const prompt = promptOf(started()[0]!);
    expect(prompt).toContain("opened GitHub issue #1 in Codertocat/Hello-World and asked you in its description");
    expect(prompt).toContain("please fix the spelling of 'commit'.");
    expect(prompt.match(/The README is misspelled/g)).toHaveLength(1);
    await finish();
  });

  it("a pull request: works on its branch", async () => {
    const payload = example(
      "pull_request",
      "opened",
      (p) => (p.pull_request.body = "WIP. @openhands-app add tests for this change"),
    );
    expect((await send("pull_request", payload)).status).toBe(202);
    expect(started()[0]!.selected_branch).toBe("changes");
    await finish();
  });

  it("an issue opened without the mention starts nothing", async () => {
    const payload = example("issues", "opened");
    expect(await (await send("issues", payload)).json()).toEqual({ ok: true, ignored: "no mention" });
  });
});

describe("the trigger label (issues.labeled, pull_request.labeled)", () => {
  it("`openhands` on an issue asks to work on it as a maintainer would, checking who put the label", async () => {
    const payload = example("issues", "labeled", (p) => (p.label = { ...p.label, name: "openhands-app" }));
    expect((await send("issues", payload)).status).toBe(202);
    expect(fakes.github.find("GET", /\/collaborators\/Codertocat\/permission$/)).toHaveLength(1);
    expect(fakes.github.reactions.map((r) => [r.subject, r.id])).toEqual([["issue", 1]]);
    const prompt = promptOf(started()[0]!);
    expect(prompt).toContain("@Codertocat put the trigger label on GitHub issue #1");
    expect(prompt).toContain("work on this issue as one of its maintainers would");
    expect(prompt).not.toContain("<request-NONCE>");
    await finish();
  });

  it("`openhands` on a PR asks the same of the PR, on its branch", async () => {
    const payload = example("pull_request", "labeled", (p) => (p.label = { ...p.label, name: "OpenHands-App" }));
    expect((await send("pull_request", payload)).status).toBe(202);
    expect(promptOf(started()[0]!)).toContain("work on this pull request as one of its maintainers would");
    expect(started()[0]!.selected_branch).toBe("changes");
  });

  it("another label starts nothing; a read-only labeller starts nothing", async () => {
    expect((await send("issues", example("issues", "labeled"))).status).toBe(202);
    expect(started()).toEqual([]);
    fakes.github.permissions.set("codertocat", "triage");
    await send(
      "issues",
      example("issues", "labeled", (p) => (p.label = { ...p.label, name: "openhands-app" })),
    );
    expect(started()).toEqual([]);
  });
});

describe("an edited comment (issue_comment.edited)", () => {
  it("that newly adds the mention is a new request", async () => {
    const payload = example(
      "issue_comment",
      "edited",
      (p) => (p.comment.body = "You are totally right! @openhands-app can you fix it?"),
    );
    expect((await send("issue_comment", payload)).status).toBe(202);
    expect(started()).toHaveLength(1);
  });

  it("of a comment that already had the mention starts nothing", async () => {
    const payload = example("issue_comment", "edited", (p) => {
      p.changes = { body: { from: "@openhands-app fix it" } };
      p.comment.body = "@openhands-app fix it, and add a test";
    });
    expect((await send("issue_comment", payload)).status).toBe(202);
    expect(started()).toEqual([]);
    // known config: the answer says why at once
    expect(await (await send("issue_comment", payload)).json()).toEqual({
      ok: true,
      ignored: "edit did not add the mention",
    });
  });
});

describe("what the agent is told", () => {
  it("the discussion before the request, without bots, the App's own comments, or later edits", async () => {
    const gh = fakes.github;
    const old = "2019-05-15T15:00:00Z";
    const add = (body: string, user: FakeComment["user"] = { login: "alice", id: 5, type: "User" }, at = old) => {
      const c = gh.addComment("Codertocat", "Hello-World", 1, body, user);
      c.created_at = at;
      c.updated_at = at;
      return c;
    };
    add("It also fails for 2024-02-29.");
    add("Dependabot says hi", { login: "dependabot[bot]", id: 6, type: "Bot" });
    add("old tracking comment <!-- openhands-github-app task:0123 -->");
    const edited = add("I think it is the parser.");
    edited.updated_at = "2030-01-01T00:00:00Z"; // edited after the request: its new text must not count
    const payload = example("issue_comment", "created", (p) => (p.comment.body = "@openhands-app please fix it"));
    await send("issue_comment", payload);
    const prompt = promptOf(started()[0]!);
    expect(prompt).toContain(
      '<comment-NONCE author="alice" at="2019-05-15T15:00:00Z">\nIt also fails for 2024-02-29.\n</comment-NONCE>',
    );
    expect(prompt).not.toContain("Dependabot says hi");
    expect(prompt).not.toContain("old tracking comment");
    expect(prompt).not.toContain("I think it is the parser.");
    expect(prompt).toContain("[3 earlier or later comments left out]");
  });

  it("a long discussion costs two reads, the oldest and the newest hundred comments", async () => {
    const gh = fakes.github;
    for (let i = 0; i < 250; i++) {
      const c = gh.addComment("Codertocat", "Hello-World", 1, `comment ${i}`, { login: "alice", id: 5, type: "User" });
      c.created_at = c.updated_at = "2019-05-15T15:00:00Z";
    }
    const payload = example("issue_comment", "created", (p) => (p.comment.body = "@openhands-app please fix it"));
    await send("issue_comment", payload);
    const reads = gh.requests.filter(
      (r) => r.method === "GET" && r.path === "/repos/Codertocat/Hello-World/issues/1/comments",
    );
    // The discussion is read first (the tracking comment's lookup, after it, pages through them all for its marker).
    expect(reads.slice(0, 2).map((r) => [r.query.get("per_page"), r.query.get("page")])).toEqual([
      ["100", null],
      ["100", "3"],
    ]);
    const prompt = promptOf(started()[0]!);
    expect(prompt).toContain("comment 249");
    // the hundred in between are not read, and the prompt says so with the rest it left out
    expect(Number(/\[(\d+) earlier or later comments left out\]/.exec(prompt)?.[1])).toBeGreaterThanOrEqual(100);
  });

  // Golden prompts: GitHub's example payloads in, the exact prompt out. Review the snapshot when it changes.
  it.each([
    [
      "issue_comment",
      "created",
      (p: Record<string, any>): void => void (p.comment.body = "@openhands-app please fix the typo"),
    ],
    [
      "pull_request_review_comment",
      "created",
      (p: Record<string, any>): void => void (p.comment.body = "@openhands-app use more emoji here"),
    ],
    [
      "pull_request_review",
      "submitted",
      (p: Record<string, any>): void => void (p.review.body = "@openhands-app address the comments"),
    ],
    [
      "issues",
      "opened",
      (p: Record<string, any>): void => void (p.issue.body = "@openhands-app fix the spelling in the README"),
    ],
    ["issues", "labeled", (p: Record<string, any>): void => void (p.label = { ...p.label, name: "openhands-app" })],
    [
      "pull_request",
      "labeled",
      (p: Record<string, any>): void => void (p.label = { ...p.label, name: "openhands-app" }),
    ],
  ] as const)("golden prompt for %s.%s", async (event, action, change) => {
    fakes.github.pulls.set(2, {
      ref: "changes",
      repository: "Codertocat/Hello-World",
      baseRef: "master",
      files: ["README.md"],
    });
    const payload = example(event, action, change);
    if (event === "pull_request_review_comment") {
      fakes.github.addReviewComment(
        "Codertocat",
        "Hello-World",
        2,
        payload.comment.body,
        { login: "Codertocat", id: 21031067, type: "User" },
        undefined,
        payload.comment.id,
      );
    }
    await send(event, payload);
    expect(promptOf(started()[0]!)).toMatchSnapshot();
  });
});

describe("a repository config ignored for a problem", () => {
  it("has its problem in the request settings that decideEvent builds, and only then", () => {
    const payload = example("issue_comment", "created", (p) => (p.comment.body = "@openhands-app please fix the typo"));
    const parsed = parseRepoConfig("draft_pr: maybe\n");
    expect(parsed.problem).toContain("`draft_pr` must be true or false");
    const decision = decideEvent("issue_comment", payload, parsed, DEPLOYMENT);
    expect(decision.run && decision.request.settings).toEqual({
      mention: "@openhands-app",
      label: "openhands-app",
      reviewLabel: "openhands-review",
      instructions: "",
      reviewInstructions: "",
      autoReview: { onOpen: false, onPush: false, drafts: false },
      branchPrefix: "openhands/",
      draftPr: true,
      continueDays: 7,
      configProblem: parsed.problem,
    });
    const plain = decideEvent("issue_comment", payload, { config: DEFAULT_REPO_CONFIG }, DEPLOYMENT);
    expect(plain.run && plain.request.settings).not.toHaveProperty("configProblem");
  });
});
