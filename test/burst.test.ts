import { expect, it } from "vitest";
import { examplePayloads, mostInOneSecond, runCron } from "./support/harness";
import { startWorld } from "./support/world";

/**
 * A maintainer labels 30 issues at once, against OpenHands' limit of 10 requests a
 * second and 100 a minute per user (the fake's, as enterprise/server/rate_limit.py
 * sets it), in real time: each delivery paces itself and sits out the short 429s
 * its burst meets, so every issue starts at once and none hears of a rate limit.
 * `npm run bench` prints the figures.
 */
const ISSUES = 30;

it(`${ISSUES} issues labelled at once each get one conversation and its result; no thread hears of a rate limit`, {
  timeout: 90_000,
}, async () => {
  // Slots for all of them, so that only the rate limit could hold a start back.
  const fakes = startWorld({ env: { MAX_RUNNING_CONVERSATIONS: String(ISSUES) } });
  expect(fakes.openhands.rateLimit).toBe(true);
  const label = async (i: number) => {
    const payload = examplePayloads("issues").find((p) => p.action === "labeled")!;
    payload.installation = { id: 8_300_000, node_id: "x" };
    payload.label = { ...payload.label, name: "openhands-app" };
    payload.issue.number = 300 + i;
    payload.issue.id = 9_300_000 + i;
    return (await fakes.deliver("issues", payload)).status;
  };
  const started = Date.now();
  const statuses = await Promise.all(Array.from({ length: ISSUES }, (_, i) => label(i)));
  const burstMs = Date.now() - started;
  expect(statuses).toEqual(statuses.map(() => 202));
  const refusedInBurst = fakes.openhands.rateLimited;
  // The burst did meet the limit, and every start went through within its own delivery.
  expect(refusedInBurst, "OpenHands 429s during the burst").toBeGreaterThan(0);
  expect(fakes.openhands.startTasks.size).toBe(ISSUES);
  const states = async () => (await fakes.tasks()).map((task) => task.status);
  expect(await states()).toEqual(Array(ISSUES).fill("starting"));
  expect(await fakes.received()).toEqual([]);

  let ticks = 0;
  while (ticks < 20 && (await states()).some((s) => s !== "succeeded")) {
    ticks++;
    await runCron(fakes.env, new Date(Date.now() + ticks * 3 * 60_000));
  }
  expect(await states()).toEqual(Array(ISSUES).fill("succeeded"));
  for (let i = 0; i < ISSUES; i++) {
    const thread = fakes.github.commentsOn("Codertocat", "Hello-World", 300 + i);
    expect(thread).toHaveLength(1);
    expect(thread[0]!.body).toContain("OpenHands finished");
  }
  expect(fakes.openhands.conversations.size).toBe(ISSUES);
  // Nothing the App wrote, at any point, spoke of a limit or a wait.
  const written = fakes.github.requests
    .filter((r) => r.method !== "GET" && /\/comments/.test(r.path))
    .map((r) => JSON.stringify(r.body));
  expect(written.filter((body) => /answered 429|rate limit|could not start yet|⏳/i.test(body))).toEqual([]);

  const starts = fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/).map((r) => r.at);
  console.log(
    `[figures] burst: ${ISSUES} label events at once: all started within ${burstMs} ms of real time ` +
      `(${starts.length} starts, ${refusedInBurst} answered 429 and were waited out), results after ${ticks} ticks; ` +
      `OpenHands requests: ${fakes.openhands.requests.length}, at most ${mostInOneSecond(fakes.openhands.requests.map((r) => r.at))} in any second`,
  );
});
