import { expect, it } from "vitest";
import { issueCommentPayload, runCron } from "./support/harness";
import { startWorld } from "./support/world";

/**
 * 200 requests at once, on 200 threads of 40 installations. Every task must end
 * with exactly one result, and no cron tick may make more than the Free plan's
 * 50 subrequests: the rest wait for later ticks, oldest first. Subrequests, not
 * time, are measured here: the Worker is not paced and the fake's rate limit is
 * off (burst.test.ts holds both to real time). `npm run bench` prints the figures.
 */
const TASKS = 200;
const INSTALLATIONS = 40;

it(`${TASKS} pending tasks end with ${TASKS} results, each exactly once, within the subrequest budget`, {
  timeout: 600_000,
}, async () => {
  const fakes = startWorld({
    role: null,
    roles: { octocat: "write" },
    env: {
      MAX_RUNNING_CONVERSATIONS: "1000",
      MAX_STARTS_PER_INSTALLATION_PER_HOUR: "1000",
      OPENHANDS_REQUESTS_PER_SECOND: "1000",
    },
  });
  fakes.openhands.rateLimit = false;
  const firstInstallation = 9_000_000;
  const request = async (i: number) => {
    const payload = issueCommentPayload(`@openhands-app fix bug ${i}`, {
      installationId: firstInstallation + (i % INSTALLATIONS),
    });
    payload.issue.number = 1000 + i;
    payload.comment.id = 5_000_000 + i;
    payload.sender.login = "octocat";
    payload.comment.user.login = "octocat";
    return (await fakes.deliver("issue_comment", payload)).status;
  };
  // One delivery per installation at a time, as GitHub would spread them.
  for (let first = 0; first < TASKS; first += INSTALLATIONS) {
    const batch = Array.from({ length: Math.min(INSTALLATIONS, TASKS - first) }, (_, k) => request(first + k));
    expect(await Promise.all(batch)).toEqual(batch.map(() => 202));
  }
  expect(fakes.openhands.startTasks.size).toBe(TASKS);

  const perTick: number[] = [];
  let ended = 0;
  for (let tick = 1; tick <= 100 && ended < TASKS; tick++) {
    const before = fakes.github.requests.length + fakes.openhands.requests.length;
    await runCron(fakes.env);
    perTick.push(fakes.github.requests.length + fakes.openhands.requests.length - before);
    ended = (await fakes.tasks()).filter((task) => task.status === "succeeded").length;
  }

  expect(ended).toBe(TASKS);
  expect(Math.max(...perTick)).toBeLessThanOrEqual(50);
  for (let i = 0; i < TASKS; i++) {
    const thread = fakes.github.commentsOn("Codertocat", "Hello-World", 1000 + i);
    expect(thread).toHaveLength(1);
    expect(thread[0]!.body).toContain("OpenHands finished");
  }
  expect(fakes.github.find("POST", /\/issues\/\d+\/comments$/)).toHaveLength(TASKS);
  expect(fakes.openhands.conversations.size).toBe(TASKS);

  console.log(
    `[figures] load: ${TASKS} tasks on ${INSTALLATIONS} installations ended in ${perTick.length} cron ticks; ` +
      `subrequests per tick: max ${Math.max(...perTick)}, mean ${(perTick.reduce((a, b) => a + b, 0) / perTick.length).toFixed(1)}; ` +
      `per tick: ${perTick.join(" ")}`,
  );
});
