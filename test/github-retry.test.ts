import { describe, expect, it } from "vitest";
import { json } from "./support/fakes/recorder";
import { callWorker, issueCommentPayload, signedWebhook, type TestEnv } from "./support/harness";
import { startWorld, storedTasks } from "./support/world";

/**
 * The one suite that lets Octokit's quick retry wait as it does in production
 * (every other test sets GITHUB_RETRY_DELAY_MS to 0), and that shows a GitHub
 * rate limit waiting in the task's own backoff rather than in the request.
 */
async function onlyTask(env: TestEnv) {
  const [task] = await storedTasks(env);
  if (!task) throw new Error("no task kept");
  return task;
}

const PERMISSION = /\/collaborators\/[^/]+\/permission$/;

describe("GitHub's answers that say 'later'", () => {
  it("a 502 is retried once, a second later, within the same request", async () => {
    const fakes = startWorld({ env: { GITHUB_RETRY_DELAY_MS: undefined } });
    fakes.github.failNext("GET", PERMISSION, () => json({ message: "Server Error" }, 502));
    const response = await callWorker(
      await signedWebhook("issue_comment", issueCommentPayload("@openhands-app fix it")),
      fakes.env,
    );
    expect(response.status).toBe(202);
    const [first, second] = fakes.github.find("GET", PERMISSION);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
    expect(second!.at - first!.at).toBeLessThan(5000);
    expect((await onlyTask(fakes.env)).status).toBe("starting");
  });

  it("a 429 with Retry-After is not waited out in the request: the task backs off until then", async () => {
    const fakes = startWorld({ env: { GITHUB_RETRY_DELAY_MS: undefined } });
    fakes.github.failNext("GET", PERMISSION, () =>
      json({ message: "You have exceeded a secondary rate limit." }, 429, { "retry-after": "600" }),
    );
    const started = Date.now();
    await callWorker(await signedWebhook("issue_comment", issueCommentPayload("@openhands-app fix it")), fakes.env);
    expect(fakes.github.find("GET", PERMISSION)).toHaveLength(1);
    const task = await onlyTask(fakes.env);
    expect(task).toMatchObject({ status: "queued", attempts: 1, lastError: "GitHub answered 429" });
    expect(Date.parse(task.nextAttemptAt!) - started).toBeGreaterThanOrEqual(600_000);
  });

  it("a 403 with an exhausted quota waits until X-RateLimit-Reset", async () => {
    const fakes = startWorld();
    const reset = Math.floor(Date.now() / 1000) + 45 * 60;
    fakes.github.failNext("GET", PERMISSION, () =>
      json({ message: "API rate limit exceeded for installation." }, 403, {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(reset),
      }),
    );
    await callWorker(await signedWebhook("issue_comment", issueCommentPayload("@openhands-app fix it")), fakes.env);
    const task = await onlyTask(fakes.env);
    expect(task.status).toBe("queued");
    expect(Date.parse(task.nextAttemptAt!)).toBe(reset * 1000);
  });
});
