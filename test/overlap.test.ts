import { SELF } from "cloudflare:test";
import process from "node:process";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { isFinal, type TaskStatus } from "../src/tasks/task";
import { issueCommentPayload, kvSnapshot, signedWebhook } from "./support/harness";
import { startWorld } from "./support/world";

/**
 * Webhooks and cron ticks that overlap in one isolate, each in its own request
 * context, as Cloudflare runs them. The other tests call the handlers from the
 * test's own context (callWorker, runCron), where nothing is ever shared between
 * two requests; here every delivery and every tick goes through `SELF`, so state
 * a module keeps across requests (a limiter's queue, a timer, a pending promise)
 * shows up as a hung or cancelled request and a thread left without its result.
 */
const ISSUES = 8;
const INSTALLATION = 4_240_001;
const CRON = "*/3 * * * *";
/** Everything must have settled by then; the test's own timeout is a backstop above it. */
const SETTLE_WITHIN_MS = 40_000;
const MAX_ROUNDS = 30;

/** `SELF.scheduled()` exists with the `service_binding_extra_handlers` flag (vitest.config.mts). */
type ScheduledResult = { outcome: string; noRetry: boolean };
const worker = SELF as Fetcher & {
  scheduled(options?: { scheduledTime?: Date; cron?: string }): Promise<ScheduledResult>;
};

const RUNTIME_TROUBLE =
  /different request context|canceled this request|hung|Cannot perform I\/O on behalf of a different/i;

const explain = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
/** The test's own output, past the capture below. */
const print = console.log.bind(console);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What went wrong outside the Worker's normal answers: hung calls, thrown errors, runtime complaints. */
let problems: string[] = [];
/** Everything the Worker logged. */
let consoleLines: string[] = [];

beforeEach(() => {
  problems = [];
  consoleLines = [];
  // Kept here rather than passed on: vitest forwards console output to its pool over a
  // socket of the test's own context, and a line logged from a request context that
  // has hung or ended never gets there, leaving vitest waiting for it after the test.
  for (const level of ["log", "info", "debug", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      consoleLines.push(`${level}: ${args.map((a) => (a instanceof Error ? explain(a) : String(a))).join(" ")}`);
    });
  }
});
afterEach(() => vi.restoreAllMocks());

// A rejection nobody handled in a request context that has hung or ended would reach
// vitest's own listener, whose report to the pool never arrives and which vitest then
// waits for forever. With a listener of ours, vitest leaves it alone and the test fails instead.
const onUnhandledRejection = (reason: unknown) => void problems.push(`unhandled rejection: ${explain(reason)}`);
const onUncaughtException = (error: unknown) => void problems.push(`uncaught exception: ${explain(error)}`);
beforeAll(() => {
  process.on("unhandledRejection", onUnhandledRejection);
  process.on("uncaughtException", onUncaughtException);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandledRejection);
  process.off("uncaughtException", onUncaughtException);
});

function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** How often the Worker logged each event, by level: `{"error webhook.record_failed": 7}`. */
function eventCounts(lines: string[]): Record<string, number> {
  return tally(
    lines.flatMap(
      (line) =>
        line
          .match(/"level":"(\w+)","event":"([\w.]+)"/)
          ?.slice(1, 3)
          .join(" ") ?? [],
    ),
  );
}

/** Lines that differ only in a number (a delivery, a tick) once each, with how often: a readable diagnosis. */
function collapse(lines: string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const shape = line.replace(/\d+/g, "N");
    counts.set(shape, (counts.get(shape) ?? 0) + 1);
  }
  return [...counts].map(([shape, n]) => (n > 1 ? `${n}× ${shape}` : shape));
}

/** Resolves with the call's outcome, or with a note once `ms` have passed: a hung call must not hang the test. */
async function bounded<T>(label: string, call: () => Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"deadline">(
    (resolve) => (timer = setTimeout(() => resolve("deadline"), Math.max(0, ms))),
  );
  try {
    const result = await Promise.race([call(), deadline]);
    if (result === "deadline") {
      problems.push(`${label}: no answer within ${ms} ms`);
      return undefined;
    }
    return result;
  } catch (error) {
    problems.push(`${label}: threw ${explain(error)}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

it(`${ISSUES} webhooks on one installation and overlapping cron ticks, each in its own request context, all end with one result`, {
  timeout: 60_000,
}, async () => {
  const started = Date.now();
  const deadline = started + SETTLE_WITHIN_MS;
  const left = () => deadline - Date.now();
  const fakes = startWorld({ role: null, roles: { octocat: "write" } });

  const statuses: number[] = [];
  const outcomes: string[] = [];
  const webhook = async (i: number) => {
    const payload = issueCommentPayload(`@openhands-app fix bug ${i}`, { installationId: INSTALLATION });
    payload.issue.number = 100 + i;
    payload.comment.id = 7_000_000 + i;
    payload.sender.login = "octocat";
    payload.comment.user.login = "octocat";
    const request = await signedWebhook("issue_comment", payload);
    const response = await bounded(`webhook #${100 + i}`, () => worker.fetch(request), left());
    if (response) {
      statuses.push(response.status);
      await response.arrayBuffer();
    }
  };
  let ticks = 0;
  // Ticks at the real time. A later scheduledTime would skip backoffs, but past two minutes
  // it also ends the webhook's hold on its task (WEBHOOK_OWNS_TASK_MS) while the delivery's
  // waitUntil may still be starting it: a race production cannot have, and a second start.
  const tick = async () => {
    const n = ++ticks;
    const result = await bounded(
      `cron tick ${n}`,
      () => worker.scheduled({ scheduledTime: new Date(), cron: CRON }),
      left(),
    );
    if (result) outcomes.push(result.outcome);
  };

  const tasks = async () => (await kvSnapshot(fakes.env)).filter((e) => e.name.startsWith("task:"));
  const finished = (issue: number) =>
    fakes.github.commentsOn("Codertocat", "Hello-World", issue).some((c) => c.body.includes("OpenHands finished"));
  const settled = async () => {
    const all = await tasks();
    return (
      all.length === ISSUES &&
      all.every((e) => isFinal((e.metadata as { s: TaskStatus }).s)) &&
      Array.from({ length: ISSUES }, (_, i) => 100 + i).every(finished)
    );
  };

  // The deliveries arrive together, while cron ticks run.
  await Promise.all([...Array.from({ length: ISSUES }, (_, i) => webhook(i)), tick(), tick(), tick()]);
  // More ticks that overlap one another, while the deliveries' waitUntil work may still run.
  await Promise.all([tick(), tick(), tick()]);
  // Then keep ticking, two at a time, until every task has ended.
  let rounds = 0;
  while (rounds < MAX_ROUNDS && left() > 0 && !(await settled())) {
    rounds++;
    await Promise.all([tick(), tick()]);
    await sleep(Math.min(250, Math.max(0, left())));
  }

  const all = await tasks();
  const elapsed = Date.now() - started;
  const diagnosis = [
    `after ${elapsed} ms, ${ticks} ticks in ${rounds} rounds`,
    `task statuses: ${JSON.stringify(all.map((e) => (e.metadata as { s: string }).s))}`,
    `webhook statuses: ${JSON.stringify(statuses)}; tick outcomes: ${JSON.stringify(tally(outcomes))}`,
    `OpenHands starts: ${fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/).length} (${fakes.openhands.rateLimited} requests answered 429)`,
    `threads with a result: ${Array.from({ length: ISSUES }, (_, i) => 100 + i).filter(finished).length}/${ISSUES}`,
    `Worker events: ${JSON.stringify(eventCounts(consoleLines))}`,
    ...collapse(problems),
    ...collapse(consoleLines.filter((l) => RUNTIME_TROUBLE.test(l) || l.startsWith("error:"))).slice(0, 20),
  ].join("\n");
  print(`[overlap] ${diagnosis.split("\n").slice(0, 5).join("; ")}`);

  // Every call answered, none hung or threw; the runtime complained of nothing.
  expect(collapse(problems), diagnosis).toEqual([]);
  expect(
    consoleLines.filter((l) => RUNTIME_TROUBLE.test(l)),
    diagnosis,
  ).toEqual([]);
  expect(
    statuses.filter((s) => s !== 202 && s !== 200),
    diagnosis,
  ).toEqual([]);
  expect(statuses, diagnosis).toHaveLength(ISSUES);
  expect(
    outcomes.filter((o) => o !== "ok"),
    diagnosis,
  ).toEqual([]);

  // Every thread ends with exactly one comment from the App, the result.
  for (let i = 0; i < ISSUES; i++) {
    const fromApp = fakes.github.commentsOn("Codertocat", "Hello-World", 100 + i).filter((c) => c.user.type === "Bot");
    expect(fromApp, `thread #${100 + i}\n${diagnosis}`).toHaveLength(1);
    expect(fromApp[0]!.body, `thread #${100 + i}\n${diagnosis}`).toContain("OpenHands finished");
  }
  expect(all, diagnosis).toHaveLength(ISSUES);
  expect(
    all.map((e) => (e.metadata as { s: string }).s),
    diagnosis,
  ).toEqual(all.map(() => "succeeded"));
  // One conversation per request: no start was lost, none was made twice. A start the fake's rate
  // limiter answered 429 (ten a second per key, as OpenHands Cloud) is sent again: count the accepted ones.
  const starts = fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/).length;
  expect(fakes.openhands.startTasks.size, diagnosis).toBe(ISSUES);
  expect(starts, diagnosis).toBeLessThanOrEqual(ISSUES + fakes.openhands.rateLimited);
  expect(fakes.openhands.conversations.size, diagnosis).toBe(ISSUES);
});
