/**
 * What a cron tick costs with 0–500 pending tasks, what one task costs from its
 * webhook to its result, and what an idle day costs: time, upstream requests and
 * KV operations, all counted by the KV binding and the fake upstreams.
 */
import { FakeOpenHands } from "../test/support/fakes/openhands";
import { onSimulatedClock, realNow } from "./clock";
import { CountingKV, type KvCounts } from "./kv";
import { fmt, table } from "./stats";
import {
  commentDelivery,
  cronSchedule,
  executionContext,
  FREE,
  type Upstreams,
  type WorkerModule,
  workerEnv,
} from "./worker";

export interface CronReport {
  markdown: string;
}

type Payload = Record<string, any>;

const { cron: CRON, intervalMs: TICK_MS, ticksPerDay: TICKS_PER_DAY } = cronSchedule();

interface Usage {
  kv: KvCounts;
  github: number;
  openhands: number;
  /** µs of the Worker's own work: wall time minus the time spent inside the fakes. */
  workerUs: number;
}

async function counted(kv: CountingKV, upstreams: Upstreams, run: () => Promise<void>): Promise<Usage> {
  kv.resetCounts();
  const github = upstreams.github.requests.length;
  const openhands = upstreams.openhands.requests.length;
  const fakeUs = upstreams.fakeUs;
  const start = performance.now();
  await run();
  const wallUs = (performance.now() - start) * 1000;
  return {
    kv: kv.resetCounts(),
    github: upstreams.github.requests.length - github,
    openhands: upstreams.openhands.requests.length - openhands,
    workerUs: wallUs - (upstreams.fakeUs - fakeUs),
  };
}

function add(a: Usage, b: Usage): Usage {
  return {
    kv: {
      reads: a.kv.reads + b.kv.reads,
      writes: a.kv.writes + b.kv.writes,
      deletes: a.kv.deletes + b.kv.deletes,
      lists: a.kv.lists + b.kv.lists,
    },
    github: a.github + b.github,
    openhands: a.openhands + b.openhands,
    workerUs: a.workerUs + b.workerUs,
  };
}

const ZERO: Usage = { kv: { reads: 0, writes: 0, deletes: 0, lists: 0 }, github: 0, openhands: 0, workerUs: 0 };

async function tick(worker: WorkerModule, env: Record<string, unknown>, scheduledTime: number): Promise<void> {
  const { ctx, settled } = executionContext();
  await worker.scheduled({ scheduledTime, cron: CRON, noRetry: () => {} }, env, ctx);
  await settled();
}

async function webhook(worker: WorkerModule, env: Record<string, unknown>, req: Request): Promise<number> {
  const { ctx, settled } = executionContext();
  const response = await worker.fetch(req, env, ctx);
  await response.text();
  await settled();
  return response.status;
}

/** A scheduled time `k` ticks from now that is not the hourly sweep tick (minute 0–1). */
function tickTime(base: number, k: number): number {
  const t = base + k * TICK_MS;
  return new Date(t).getUTCMinutes() < 2 ? t + TICK_MS : t;
}

function statuses(kv: CountingKV): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, entry] of kv.data) {
    if (!name.startsWith("task:")) continue;
    const s = (entry.metadata as { s?: string } | undefined)?.s ?? "?";
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}

export async function runCronBench(worker: WorkerModule, upstreams: Upstreams, template: Payload): Promise<CronReport> {
  // Pending tasks stay running: every tick has the same work to do.
  const runningForever = { ...FakeOpenHands.defaultScript(), startSteps: ["WORKING"], execution: ["running"] };
  const overrides = { MAX_RUNNING_CONVERSATIONS: "1000", MAX_STARTS_PER_INSTALLATION_PER_HOUR: "1000" };
  const tickRows: string[][] = [];
  let installation = 20_000_000;
  for (const pendingCount of [0, 10, 100, 500]) {
    const kv = new CountingKV();
    const env = workerEnv(kv, overrides);
    upstreams.openhands.nextScript = runningForever;
    const base = installation;
    installation += 100;
    for (let i = 0; i < pendingCount; i++) {
      const status = await webhook(worker, env, await commentDelivery(template, { installationId: base + (i % 40) }));
      if (status !== 202) throw new Error(`cron bench: webhook answered ${status}`);
    }
    const start = Date.now();
    const ticks: Usage[] = [];
    for (let k = 1; k <= 3; k++) ticks.push(await counted(kv, upstreams, () => tick(worker, env, tickTime(start, k))));
    const state = Object.entries(statuses(kv))
      .map(([s, n]) => `${n} ${s}`)
      .join(", ");
    for (const [label, u] of [
      ["first", ticks[0]!],
      ["third", ticks[2]!],
    ] as const) {
      tickRows.push([
        String(pendingCount),
        label,
        fmt(u.workerUs / 1000),
        String(u.github + u.openhands),
        String(u.kv.reads),
        String(u.kv.writes),
        String(u.kv.lists),
        label === "third" ? state || "none" : "",
      ]);
    }
  }

  // One task, webhook to result, with GitHub's default script, one tick every two minutes.
  upstreams.openhands.nextScript = FakeOpenHands.defaultScript();
  const kv = new CountingKV();
  const env = workerEnv(kv);
  // On a simulated clock, so that time really passes for KV expirations (the activity marker's).
  const start = Math.ceil(realNow() / 86_400_000) * 86_400_000 + 10 * 86_400_000 + 10 * 3600_000 + 5 * 60_000;
  const { task, ticksToEnd, ended, idle } = await onSimulatedClock(start, async (at) => {
    let task = await counted(kv, upstreams, async () => {
      const status = await webhook(worker, env, await commentDelivery(template, { installationId: installation++ }));
      if (status !== 202) throw new Error(`cron bench: webhook answered ${status}`);
    });
    let ticksToEnd = 0;
    for (let k = 1; k <= 60; k++) {
      const t = tickTime(start, k);
      at(t);
      task = add(task, await counted(kv, upstreams, () => tick(worker, env, t)));
      ticksToEnd = k;
      const s = statuses(kv);
      if (
        !Object.keys(s).some((status) => ["queued", "starting", "running", "needs_input", "received"].includes(status))
      )
        break;
    }
    // Read now: a day later its record has expired.
    const ended = Object.keys(statuses(kv)).join(", ");
    // An idle day from the next midnight, once the task's activity marker has run out.
    let idle = ZERO;
    const midnight = Math.ceil((start + 3600_000) / 86_400_000) * 86_400_000;
    for (let k = 0; k < TICKS_PER_DAY; k++) {
      at(midnight + k * TICK_MS);
      idle = add(idle, await counted(kv, upstreams, () => tick(worker, env, midnight + k * TICK_MS)));
    }
    return { task, ticksToEnd, ended, idle };
  });

  // A half-hour run whose agent takes a new action before every look: the progress line's worst case.
  const longRun = ["running", ...Array<string>(Math.ceil((30 * 60_000) / TICK_MS)).fill("running"), "finished"];
  upstreams.openhands.nextScript = { ...FakeOpenHands.defaultScript(), startSteps: ["WORKING"], execution: longRun };
  const activityLooks = () =>
    upstreams.openhands.requests.filter(
      (r) => r.path.endsWith("/events/search") && r.query.get("kind__eq") === "ActionEvent",
    ).length;
  const looksBefore = activityLooks();
  const longKv = new CountingKV();
  const longEnv = workerEnv(longKv);
  const longStart = start + 2 * 86_400_000;
  const long = await onSimulatedClock(longStart, async (at) => {
    let cost = await counted(longKv, upstreams, async () => {
      const status = await webhook(
        worker,
        longEnv,
        await commentDelivery(template, { installationId: installation++ }),
      );
      if (status !== 202) throw new Error(`cron bench: webhook answered ${status}`);
    });
    let ticks = 0;
    let action = 0;
    for (let k = 1; k <= 60; k++) {
      const t = tickTime(longStart, k);
      at(t);
      for (const conversation of upstreams.openhands.conversations.values()) {
        upstreams.openhands.recordAction(conversation.id, {
          tool_name: "terminal",
          action: {
            kind: "TerminalAction",
            command: `npm test -- --run case-${action++}`,
            is_input: false,
            timeout: null,
            reset: false,
          },
          summary: `Run test case ${action}`,
        });
      }
      cost = add(cost, await counted(longKv, upstreams, () => tick(worker, longEnv, t)));
      ticks = k;
      if (!Object.keys(statuses(longKv)).some((s) => ["queued", "starting", "running", "needs_input"].includes(s)))
        break;
    }
    return { cost, ticks };
  });
  const looks = activityLooks() - looksBefore;

  const tickTable = table(
    [
      "pending tasks",
      "tick",
      "ms (Worker only)",
      "upstream requests",
      "KV reads",
      "KV writes",
      "KV lists",
      "tasks after the third tick",
    ],
    tickRows,
  );
  const costTable = table(
    ["", "KV writes", "KV reads", "KV lists", "KV deletes", "GitHub requests", "OpenHands requests"],
    [
      [
        `one task, webhook to result (${ticksToEnd} ticks; ended ${ended})`,
        ...[task.kv.writes, task.kv.reads, task.kv.lists, task.kv.deletes, task.github, task.openhands].map(String),
      ],
      [
        `one half-hour task, a new agent action before every look (${long.ticks} ticks, ${looks} looks at the agent's activity)`,
        ...[
          long.cost.kv.writes,
          long.cost.kv.reads,
          long.cost.kv.lists,
          long.cost.kv.deletes,
          long.cost.github,
          long.cost.openhands,
        ].map(String),
      ],
      [
        `an idle day (${TICKS_PER_DAY} ticks, 24 of them hourly sweeps)`,
        ...[idle.kv.writes, idle.kv.reads, idle.kv.lists, idle.kv.deletes, idle.github, idle.openhands].map(String),
      ],
      ["Free plan, per day", String(FREE.writes), String(FREE.reads), String(FREE.lists), String(FREE.deletes), "", ""],
    ],
  );

  const markdown = [
    "## Cron tick",
    "",
    "One scheduled run of the bundled Worker (`scheduled` export) with 0, 10, 100 and 500 pending tasks (started by signed webhooks on 40 " +
      "installations, their conversations running without end in the fake OpenHands, `MAX_RUNNING_CONVERSATIONS` and the per-installation limit " +
      "raised), ticks one cron interval apart. The first tick after the requests moves the starts on; the third is the steady state. Time is the " +
      "Worker's own: wall time minus the time spent inside the fakes. The Free plan allows 10 ms of CPU per invocation and 50 subrequests.",
    "",
    tickTable,
    "",
    "## Per task and per idle day",
    "",
    "Counted by the KV binding and the fakes, not worked out: one `@openhands-app` request on an issue, from its webhook (with the work it leaves " +
      "in `waitUntil`) through the cron ticks until its result is posted, with no other work pending (its final message names PR #42, which " +
      "the result line reads back: one GitHub request); a half-hour task whose agent does something new before every six-minute look at its " +
      "activity (each look: one OpenHands and one GitHub read, and an edit when the line changed; never a KV write); then an idle day of ticks on the same " +
      "namespace. Dividing the Free plan by these would assume each task pays for its own ticks, but there are at most " +
      `${TICKS_PER_DAY} ticks a day however many tasks share them: the capacity comes from a whole simulated day, below.`,
    "",
    costTable,
  ].join("\n");
  return { markdown };
}
