import { describe, expect, it } from "vitest";
import { parseRepoConfig } from "../src/repo-config/parse";
import { DATE_PATCH as PATCH } from "./support/fixtures";
import { examplePayloads, issueCommentPayload } from "./support/webhook";
import { startWorld, type World } from "./support/world";

// `review:` in `.github/openhands.yml` asks for a review of each pull request nobody asked about:
// off unless turned on, and only for a pull request whose author could have asked.
const CONFIG = "Codertocat/Hello-World:.github/openhands.yml";
const INSTALLATION = 9_300_001;
const [FIRST, SECOND] = ["1".repeat(40), "2".repeat(40)];
const FINDINGS = `Looks right.\n\n\`\`\`openhands-review\n${JSON.stringify({ summary: "Fine.", comments: [] })}\n\`\`\``;

function reviewWorld(config: string | undefined, role: "write" | "read" = "write") {
  return startWorld({ role, script: { finalMessage: FINDINGS }, files: config ? { [CONFIG]: config } : {} });
}

/**
 * GitHub's own `pull_request` example for `action`, as an App receives it, with the fake's copy of its pull
 * request at `head` (for a push, the head after it; `before` the one it replaced).
 */
function pullRequestEvent(
  world: World,
  action: "opened" | "ready_for_review" | "synchronize",
  changes: { draft?: boolean; head?: string; before?: string } = {},
) {
  const payload = examplePayloads("pull_request").find((p) => p.action === action && p.installation)!;
  payload.installation = { id: INSTALLATION, node_id: "x" };
  payload.pull_request.body = "Fixes the leap years.";
  if (changes.draft !== undefined) payload.pull_request.draft = changes.draft;
  if (changes.head) {
    payload.pull_request.head.sha = changes.head;
    if (action === "synchronize") payload.after = changes.head;
  }
  if (changes.before) payload.before = changes.before;
  const pr = payload.pull_request;
  world.github.pulls.set(pr.number, {
    ref: pr.head.ref,
    repository: pr.head.repo.full_name,
    baseRef: pr.base.ref,
    sha: pr.head.sha,
    draft: pr.draft,
    patches: { "src/date.ts": PATCH },
  });
  return payload;
}

/** What the Worker wrote on GitHub: anything but reads and the installation token. */
const written = (world: World) =>
  world.github.requests.filter((r) => r.method !== "GET" && !/\/access_tokens$/.test(r.path));
/** Nothing started on OpenHands, nothing said on GitHub, nothing kept. */
async function expectNothingDone(world: World) {
  expect(starts(world)).toEqual([]);
  expect(written(world)).toEqual([]);
  expect(await world.tasks()).toEqual([]);
}

const starts = (world: World) => world.openhands.find("POST", /^\/api\/v1\/app-conversations$/);
const promptOf = (world: World) => (starts(world)[0]!.body as any).initial_message.content[0].text as string;

describe("automatic reviews", () => {
  it("with `review.on_open`, a pull request opened without a word is reviewed once, on its head", async () => {
    const world = reviewWorld("review:\n  on_open: true\n");
    const payload = pullRequestEvent(world, "opened");
    await world.deliver("pull_request", payload);
    expect(starts(world)).toHaveLength(1);
    expect(promptOf(world)).toContain("`review.on_open` in `.github/openhands.yml`");
    expect(promptOf(world)).toContain("This is a review.");
    expect(promptOf(world)).toContain("Change nothing");
    const [task] = await world.tickUntilEnded({ every: 3 });
    expect(task!.status).toBe("succeeded");
    expect(world.github.reviews).toHaveLength(1);
    expect(world.github.reviews[0]!.commit_id).toBe(payload.pull_request.head.sha);
    expect(world.comments("Codertocat", "Hello-World", payload.pull_request.number)[0]!.body).toContain("Reviewed");
  });

  it("is off by default: a pull request opened without a word starts nothing and says nothing", async () => {
    const world = reviewWorld(undefined);
    const response = await world.deliver("pull_request", pullRequestEvent(world, "opened"));
    expect(response.status).toBeLessThan(300);
    await world.tickUntilEnded({ max: 2 });
    await expectNothingDone(world);
  });

  it("passes over drafts unless `review.drafts`, and reviews one once it is marked ready, at the same head once", async () => {
    const world = reviewWorld("review:\n  on_open: true\n");
    await world.deliver("pull_request", pullRequestEvent(world, "opened", { draft: true }));
    expect(starts(world)).toEqual([]);
    const ready = pullRequestEvent(world, "ready_for_review");
    await world.deliver("pull_request", ready);
    expect(starts(world)).toHaveLength(1);
    expect(promptOf(world)).toContain(`by @${ready.pull_request.user.login}`);
    // The same head delivered again (as `opened` would be, had it come late) is the same review.
    await world.deliver("pull_request", ready);
    expect(starts(world)).toHaveLength(1);
  });

  it("reviews drafts too with `review.drafts`", async () => {
    const world = reviewWorld("review:\n  on_open: true\n  drafts: true\n");
    await world.deliver("pull_request", pullRequestEvent(world, "opened", { draft: true }));
    expect(starts(world)).toHaveLength(1);
  });

  it("does not review for an author without write access, and tells nobody", async () => {
    const world = reviewWorld("review:\n  on_open: true\n", "read");
    const payload = pullRequestEvent(world, "opened");
    payload.pull_request.author_association = "COLLABORATOR";
    await world.deliver("pull_request", payload);
    await world.tickUntilEnded({ max: 2 });
    await expectNothingDone(world);
  });

  it("refuses an outsider's pull request from the payload alone: nothing is asked of GitHub", async () => {
    const world = reviewWorld("review:\n  on_open: true\n");
    const payload = pullRequestEvent(world, "opened");
    payload.pull_request.author_association = "FIRST_TIME_CONTRIBUTOR";
    const response = await world.deliver("pull_request", payload);
    expect(await response.json()).toMatchObject({ ignored: expect.stringContaining("no access") });
    expect(world.github.requests).toEqual([]);
    expect(await world.tasks()).toEqual([]);
  });

  it("passes over a fork's pull request without a word", async () => {
    const world = reviewWorld("review:\n  on_open: true\n");
    const payload = pullRequestEvent(world, "opened");
    world.github.pulls.get(payload.pull_request.number)!.repository = "someone/Hello-World";
    await world.deliver("pull_request", payload);
    expect(starts(world)).toEqual([]);
    expect(written(world)).toEqual([]);
  });
});

describe("reviews of each push (`review.on_push`)", () => {
  const ON_PUSH = "review:\n  on_open: true\n  on_push: true\n";

  it("after a push, reviews only the commits since the head the App's last review looked at", async () => {
    const world = reviewWorld(ON_PUSH);
    await world.deliver("pull_request", pullRequestEvent(world, "opened", { head: FIRST }));
    await world.tickUntilEnded({ every: 3 });
    expect(promptOf(world)).not.toContain("Review only the commits after");

    await world.deliver("pull_request", pullRequestEvent(world, "synchronize", { before: FIRST, head: SECOND }));
    expect(starts(world)).toHaveLength(2);
    const prompt = (starts(world)[1]!.body as any).initial_message.content[0].text as string;
    expect(prompt).toContain("`review.on_push` in `.github/openhands.yml`");
    expect(prompt).toContain(`reviewed this pull request before, at commit \`${FIRST}\``);
    expect(prompt).toContain(`read \`git diff ${FIRST}..HEAD\``);
    await world.tickUntilEnded({ every: 3 });
    expect(world.github.reviews.map((review) => review.commit_id)).toEqual([FIRST, SECOND]);
  });

  it("reviews a pull request the App never reviewed whole, even after a push", async () => {
    const world = reviewWorld(ON_PUSH);
    await world.deliver("pull_request", pullRequestEvent(world, "synchronize", { before: FIRST, head: SECOND }));
    expect(starts(world)).toHaveLength(1);
    expect(promptOf(world)).toContain("`review.on_push`");
    expect(promptOf(world)).not.toContain("Review only the commits after");
  });

  it("reviews no push without `review.on_push`", async () => {
    const world = reviewWorld("review:\n  on_open: true\n");
    await world.deliver("pull_request", pullRequestEvent(world, "synchronize", { before: FIRST, head: SECOND }));
    expect(starts(world)).toEqual([]);
    expect(written(world)).toEqual([]);
  });

  it("stops the automatic review of the older head, whose comment names the push, and reviews the new one", async () => {
    const world = reviewWorld(ON_PUSH);
    world.openhands.nextScript = { ...world.openhands.nextScript!, execution: ["running"] };
    const opened = pullRequestEvent(world, "opened", { head: FIRST });
    await world.deliver("pull_request", opened);
    await world.tickUntilEnded({ every: 3, max: 2 });
    const [first] = await world.tasks();
    expect(["starting", "running"]).toContain(first!.status);

    world.openhands.nextScript = { ...world.openhands.nextScript!, execution: ["running", "finished"] };
    await world.deliver("pull_request", pullRequestEvent(world, "synchronize", { before: FIRST, head: SECOND }));
    const byId = new Map((await world.tasks()).map((task) => [task.id, task]));
    expect(byId.get(first!.id)).toMatchObject({ status: "stopped", supersededBy: SECOND });
    expect(world.openhands.find("POST", /\/sandboxes\/[^/]+\/pause$/)).toHaveLength(1);
    const comments = world.comments("Codertocat", "Hello-World", opened.pull_request.number);
    expect(comments[0]!.body).toContain("⏹️ **Superseded** by `2222222`");
    expect(starts(world)).toHaveLength(2);

    await world.tickUntilEnded({ every: 3 });
    expect(world.github.reviews.map((review) => review.commit_id)).toEqual([SECOND]);
  });

  it("without `review.on_push`, a tick stops the review of a head the pull request has left", async () => {
    const world = reviewWorld("review:\n  on_open: true\n");
    world.openhands.nextScript = { ...world.openhands.nextScript!, execution: ["running"] };
    const opened = pullRequestEvent(world, "opened", { head: FIRST });
    await world.deliver("pull_request", opened);
    await world.tickUntilEnded({ every: 3, max: 2 });
    expect(world.openhands.find("POST", /\/pause$/)).toEqual([]);

    await world.deliver("pull_request", pullRequestEvent(world, "synchronize", { before: FIRST, head: SECOND }));
    expect(starts(world)).toHaveLength(1);
    const [task] = await world.tickUntilEnded({ from: 9, every: 3, max: 2 });
    expect(task).toMatchObject({ status: "stopped", supersededBy: SECOND });
    expect(world.openhands.find("POST", /\/pause$/)).toHaveLength(1);
    expect(world.comments("Codertocat", "Hello-World", opened.pull_request.number)[0]!.body).toContain(
      "⏹️ **Superseded** by `2222222`: the pull request has new commits",
    );
    expect(world.github.reviews).toEqual([]);
  });

  it("never stops a review a person asked for: the push's review waits for it", async () => {
    const world = reviewWorld(ON_PUSH);
    world.openhands.nextScript = { ...world.openhands.nextScript!, execution: ["running", "running", "finished"] };
    const opened = pullRequestEvent(world, "opened", { head: FIRST, draft: true });
    await world.deliver("pull_request", opened);
    const asked = issueCommentPayload("@openhands-app review", { pullRequest: true, installationId: INSTALLATION });
    asked.issue.number = opened.pull_request.number;
    await world.deliver("issue_comment", asked);
    expect(starts(world)).toHaveLength(1);

    await world.deliver("pull_request", pullRequestEvent(world, "synchronize", { before: FIRST, head: SECOND }));
    expect(world.openhands.find("POST", /\/pause$/)).toEqual([]);
    expect(starts(world)).toHaveLength(1);
    const tasks = await world.tickUntilEnded({ every: 3 });
    expect(tasks.map((task) => task.status)).toEqual(["succeeded", "succeeded"]);
    expect(starts(world)).toHaveLength(2);
    // The person's review looked at the head it was asked at, and says the pull request moved on since.
    const personal = tasks.find((task) => task.request.kind === "comment")!;
    const result = world.comments("Codertocat", "Hello-World", opened.pull_request.number);
    const reply = result.find((comment) => comment.id === personal.trackingCommentId)!.body;
    expect(reply).toContain("on commit `1111111`");
    expect(reply).toContain("moved on to `2222222` since: those commits are not in this review");
  });
});

describe("a re-review asked for", () => {
  it("covers the commits since the App's last review, found among hundreds of people's reviews", async () => {
    const world = reviewWorld(undefined);
    world.openhands.nextScript = { ...world.openhands.nextScript!, execution: ["running", "finished"] };
    const opened = pullRequestEvent(world, "opened", { head: FIRST });
    const number = opened.pull_request.number;
    // GitHub lists reviews oldest first: the App's comes after the first hundred people's.
    for (let i = 0; i < 150; i++) {
      const review = { id: 500 + i, owner: "Codertocat", repo: "Hello-World", pull_number: number, by: "octocat" };
      world.github.reviews.push({ ...review, body: "LGTM", commit_id: FIRST, comments: [] });
    }
    const ask = async (commentId: number) => {
      const payload = issueCommentPayload("@openhands-app review", {
        pullRequest: true,
        installationId: INSTALLATION,
        commentId,
      });
      payload.issue.number = number;
      await world.deliver("issue_comment", payload);
      await world.tickUntilEnded({ every: 3 });
    };
    await ask(71);
    world.github.pulls.get(number)!.sha = SECOND;
    await ask(72);
    const prompts = starts(world).map((start) => (start.body as any).initial_message.content[0].text as string);
    expect(prompts[0]).not.toContain("reviewed this pull request before");
    expect(prompts[1]).toContain(`reviewed this pull request before, at commit \`${FIRST}\``);
    expect(world.github.reviews.filter((review) => !review.by).map((review) => review.commit_id)).toEqual([
      FIRST,
      SECOND,
    ]);
  });
});

describe("`review:` in the config", () => {
  it("is named in the help reply when it asks for reviews", async () => {
    const world = reviewWorld("review:\n  on_open: true\n  on_push: true\n");
    await world.comment("@openhands-app help");
    expect(world.comments()[0]!.body).toContain(
      "- This repository has each pull request reviewed when it is opened or marked ready for review, and after each push (the new commits only), if its author has write access.",
    );
  });

  it("is not named in the help reply of a repository that asks for none", async () => {
    const world = reviewWorld(undefined);
    await world.comment("@openhands-app help");
    expect(world.comments()[0]!.body).toContain("`@openhands-app review`");
    expect(world.comments()[0]!.body).not.toContain("This repository has each pull request reviewed");
  });

  it("reads the switches, off by default, and ignores a file that gets one wrong", () => {
    expect(parseRepoConfig("").config.autoReview).toEqual({ onOpen: false, onPush: false, drafts: false });
    expect(parseRepoConfig("review:\n  on_open: true\n  drafts: true\n").config.autoReview).toEqual({
      onOpen: true,
      onPush: false,
      drafts: true,
    });
    expect(parseRepoConfig("review:\n  on_open: yes please\n").problem).toBe(
      "line 1: `review.on_open` must be true or false",
    );
    expect(parseRepoConfig("review:\n  on_merge: true\n").problem).toBe("line 1: unknown setting `review.on_merge`");
  });
});
