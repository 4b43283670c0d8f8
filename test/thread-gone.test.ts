import { describe, expect, it } from "vitest";
import { json } from "./support/fakes/recorder";
import {
  callWorker,
  effectfulGitHubCalls,
  issueCommentPayload,
  openHandsWork,
  runCron,
  signedWebhook,
  type TestEnv,
} from "./support/harness";
import { startWorld, type World } from "./support/world";

/**
 * A thread that will never take the App's comments again (issue 20): the task ends, its slot is
 * freed, and nothing more is asked of GitHub or OpenHands for it. What is only "later" (a rate
 * limit, a 5xx) is tried again as before.
 */

type Fakes = World;
const STATUS_TOKEN = "status-token-for-tests-0123456789";
const OWNER = "Codertocat";
const REPO = "Hello-World";
const MIN = 60_000;

async function deliver(fakes: Fakes, payload: Record<string, any>) {
  return callWorker(await signedWebhook("issue_comment", payload), fakes.env);
}

async function status(env: TestEnv) {
  const response = await callWorker(
    new Request("https://worker.example/status", { headers: { authorization: `Bearer ${STATUS_TOKEN}` } }),
    env,
  );
  return response.json<any>();
}

/** Every upstream request that works on a task (not the daily questions of who the App and the agent are). */
function upstreamWork(fakes: Fakes) {
  return effectfulGitHubCalls(fakes.github).length + openHandsWork(fakes.openhands).length;
}

/** Ticks three minutes apart from `from`, the way the cron runs. */
async function ticks(fakes: Fakes, count: number, from = Date.now()) {
  for (let i = 1; i <= count; i++) await runCron(fakes.env, new Date(from + i * 3 * MIN));
}

const changes: {
  what: string;
  change: (fakes: Fakes, commentId: number) => void;
  status: number;
  editStatus: number;
}[] = [
  {
    what: "the issue deleted",
    change: (fakes, commentId) => fakes.github.deleteIssue(OWNER, REPO, 1, [commentId]),
    status: 410,
    editStatus: 404,
  },
  {
    what: "the issue transferred to a repository the App is not on",
    change: (fakes, commentId) => fakes.github.transferIssue(OWNER, REPO, 1, [commentId]),
    status: 404,
    editStatus: 404,
  },
  {
    what: "the conversation locked",
    change: (fakes) => fakes.github.lockIssue(OWNER, REPO, 1),
    status: 403,
    editStatus: 403,
  },
  {
    what: "the repository archived",
    change: (fakes) => fakes.github.archiveRepository(OWNER, REPO),
    status: 403,
    editStatus: 403,
  },
  {
    what: "the App removed from the repository",
    change: (fakes) => fakes.github.removeAppFrom(OWNER, REPO),
    status: 404,
    editStatus: 404,
  },
];

describe("a run that ends on a thread that is gone", () => {
  for (const { what, change, status: code, editStatus } of changes) {
    it(`${what}: the task ends with its run's ending, marked, shown in /status, and nothing is asked again`, async () => {
      const fakes = startWorld({ env: { STATUS_TOKEN } });
      const payload = issueCommentPayload("@openhands-app fix it");
      await deliver(fakes, payload);
      expect(fakes.github.commentsOn(OWNER, REPO, 1)).toHaveLength(1);
      change(fakes, payload.comment.id);

      await ticks(fakes, 3);
      const [task] = await fakes.tasks();
      expect(task!.status).toBe("succeeded");
      expect(task!.threadGone).toEqual({ status: code, at: expect.any(String) });
      expect(task!.lastError).toBe(
        `the thread takes no comments: GitHub answered ${editStatus} to the edit, ${code} to a new comment`,
      );
      // What it tried: the edit of its comment, then one new comment; nothing else was posted.
      const writes = fakes.github.requests.filter((r) => r.method === "PATCH" || r.method === "POST");
      expect(writes.slice(-2).map((r) => `${r.method} ${r.path}`)).toEqual([
        expect.stringMatching(/^PATCH \/repos\/Codertocat\/Hello-World\/issues\/comments\/\d+$/),
        "POST /repos/Codertocat/Hello-World/issues/1/comments",
      ]);

      const before = upstreamWork(fakes);
      await ticks(fakes, 5, Date.now() + 9 * MIN);
      expect(upstreamWork(fakes)).toBe(before);

      const shown = await status(fakes.env);
      expect(shown.tasks.pending).toBe(0);
      expect(shown.threadGone).toEqual({
        count: 1,
        newest: [{ task: task!.id, state: "succeeded", createdAt: expect.any(String), githubStatus: code }],
      });
      expect(shown.lastErrors).toEqual([
        { task: task!.id, state: "succeeded", at: expect.any(String), error: task!.lastError },
      ]);
    });
  }
});

describe("a thread gone while the agent runs", () => {
  it("locked while the agent waits for a confirmation: its sandbox is paused and the task ends, with no comment", async () => {
    const fakes = startWorld({ env: { STATUS_TOKEN }, script: { execution: ["running", "waiting_for_confirmation"] } });
    await deliver(fakes, issueCommentPayload("@openhands-app fix it"));
    await ticks(fakes, 1);
    fakes.github.lockIssue(OWNER, REPO, 1);
    const [conversation] = [...fakes.openhands.conversations.values()];

    await ticks(fakes, 3, Date.now() + 3 * MIN);
    const [task] = await fakes.tasks();
    expect(task).toMatchObject({ status: "failed", outcome: { summary: "thread is gone" } });
    expect(task!.threadGone!.status).toBe(403);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/sandboxes\/[^/]+\/pause$/).map((r) => r.path)).toEqual([
      `/api/v1/sandboxes/${conversation!.sandboxId}/pause`,
    ]);
    // The thread still shows the one comment it had: locked, it took none after.
    expect(fakes.github.commentsOn(OWNER, REPO, 1)).toHaveLength(1);

    const before = upstreamWork(fakes);
    await ticks(fakes, 5, Date.now() + 15 * MIN);
    expect(upstreamWork(fakes)).toBe(before);
  });

  it("the App removed from the repository: the progress look finds the issue gone, pauses the sandbox and ends the task", async () => {
    const fakes = startWorld({ env: { STATUS_TOKEN }, script: { execution: ["running"] } });
    await deliver(fakes, issueCommentPayload("@openhands-app fix it"));
    await ticks(fakes, 1);
    const [conversation] = [...fakes.openhands.conversations.values()];
    fakes.openhands.recordAction(conversation!.id, {
      tool_name: "terminal",
      action: { kind: "TerminalAction", command: "npm test" },
      summary: "Run the tests",
    });
    fakes.github.removeAppFrom(OWNER, REPO);

    const [started] = await fakes.tasks();
    const readyAt = Date.parse(started!.startedAt!);
    await runCron(fakes.env, new Date(readyAt + 6 * MIN + 10_000));
    const [task] = await fakes.tasks();
    expect(task).toMatchObject({ status: "failed", outcome: { summary: "thread is gone" } });
    expect(task!.threadGone!.status).toBe(404);
    expect(task!.lastError).toBe("the thread takes no comments: GitHub answered 404 to the issue and its comment");
    expect(fakes.github.find("GET", /^\/repos\/Codertocat\/Hello-World\/issues\/1$/)).toHaveLength(1);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/sandboxes\/[^/]+\/pause$/)).toHaveLength(1);

    const before = upstreamWork(fakes);
    await ticks(fakes, 5, readyAt + 9 * MIN);
    expect(upstreamWork(fakes)).toBe(before);
  });
});

describe("a thread gone before the task starts", () => {
  it("an archived repository: nothing is started on OpenHands, and the task ends without a comment", async () => {
    const fakes = startWorld({ env: { STATUS_TOKEN } });
    fakes.github.archiveRepository(OWNER, REPO);
    await deliver(fakes, issueCommentPayload("@openhands-app fix it"));

    const [task] = await fakes.tasks();
    expect(task).toMatchObject({ status: "failed", outcome: { summary: "thread is gone" } });
    expect(task!.threadGone!.status).toBe(403);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toEqual([]);
    expect(fakes.github.commentsOn(OWNER, REPO, 1)).toEqual([]);

    const before = upstreamWork(fakes);
    await ticks(fakes, 5);
    expect(upstreamWork(fakes)).toBe(before);
    expect((await status(fakes.env)).threadGone.count).toBe(1);
  });

  it("a locked conversation: the same, nothing started", async () => {
    const fakes = startWorld({ env: { STATUS_TOKEN } });
    fakes.github.lockIssue(OWNER, REPO, 1);
    await deliver(fakes, issueCommentPayload("@openhands-app fix it"));
    const [task] = await fakes.tasks();
    expect(task).toMatchObject({ status: "failed", threadGone: { status: 403 } });
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toEqual([]);
  });
});

describe("what is only 'later' is not gone", () => {
  it("a rate-limited 403 on the edit waits and edits the same comment; a 5xx to the new comment is tried again", async () => {
    const fakes = startWorld({ env: { STATUS_TOKEN } });
    await deliver(fakes, issueCommentPayload("@openhands-app fix it"));
    // The first final edit meets GitHub's secondary limit: 403 with Retry-After (and its message).
    fakes.github.failNext(
      "PATCH",
      /\/issues\/comments\/\d+$/,
      () =>
        json(
          {
            message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            documentation_url: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
          },
          403,
          { "retry-after": "60" },
        ),
      1,
    );
    // The second finds the comment deleted (404), and the new comment meets a 502 (retried once by Octokit).
    fakes.github.failNext("PATCH", /\/issues\/comments\/\d+$/, () => json({ message: "Not Found" }, 404), 1);
    fakes.github.failNext("POST", /\/issues\/1\/comments$/, () => json({ message: "Bad Gateway" }, 502), 2);

    await ticks(fakes, 2);
    let [task] = await fakes.tasks();
    expect(task!.status).toBe("starting");
    expect(fakes.github.find("PATCH", /\/issues\/comments\/\d+$/)).toHaveLength(1);
    // Not a new comment on a rate limit: that would be a second one once the edit goes through.
    expect(fakes.github.find("POST", /\/issues\/1\/comments$/)).toHaveLength(1);

    await ticks(fakes, 1, Date.now() + 6 * MIN);
    [task] = await fakes.tasks();
    expect(task!.status).toBe("starting");
    expect(task!.threadGone).toBeUndefined();
    expect(fakes.github.find("POST", /\/issues\/1\/comments$/)).toHaveLength(3);

    await ticks(fakes, 1, Date.now() + 9 * MIN);
    [task] = await fakes.tasks();
    expect(task!.status).toBe("succeeded");
    expect(task!.threadGone).toBeUndefined();
    const comments = fakes.github.commentsOn(OWNER, REPO, 1);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("OpenHands finished");
  });
});
