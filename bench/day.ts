/**
 * A whole simulated day on one KV namespace: N requests spread evenly over 24 hours
 * (round the clock is the Free plan's worst case: the cron never gets an idle
 * hour), each a run of about ten minutes in the fake OpenHands, on ten
 * repositories, with every cron tick of the day in between. The Worker runs on a
 * simulated clock (the global `Date`), so the day takes seconds. Its KV operations
 * are counted by the binding; the day fits the Free plan when every count stays
 * under its daily limit.
 */
import { FakeOpenHands } from "../test/support/fakes/openhands";
import { onSimulatedClock, realNow } from "./clock";
import { CountingKV, type KvCounts } from "./kv";
import { table } from "./stats";
import {
  commentDelivery,
  cronSchedule,
  executionContext,
  FREE,
  loadWorkerBundle,
  type Upstreams,
  workerEnv,
} from "./worker";

type Payload = Record<string, any>;

const { cron: CRON, intervalMs: TICK_MS, ticksPerDay: TICKS_PER_DAY } = cronSchedule();
const DAY_MS = 86_400_000;
const REPOSITORIES = 10;

export interface DayResult {
  tasks: number;
  kv: KvCounts;
  github: number;
  openhands: number;
  /** Tasks by final status at the end of the day (and a tick after it). */
  ended: Record<string, number>;
  fits: boolean;
}

/** Each simulated day a later date than the one before: the fakes keep their state between days. */
let nextDay = 0;

async function simulateDay(upstreams: Upstreams, template: Payload, tasks: number): Promise<DayResult> {
  // A fresh copy of the Worker each day: nothing learnt in isolate memory on an earlier day
  // (a repository's config, a token) may spare this day's KV a write.
  const { worker } = await loadWorkerBundle();
  // Each day its own, later, simulated date: the Worker's caches (installation tokens) live on.
  const midnight = Math.ceil(realNow() / DAY_MS) * DAY_MS + 30 * DAY_MS + nextDay++ * DAY_MS;
  const kv = new CountingKV();
  const env = workerEnv(kv);
  // About ten minutes: the start, then four reads of a working agent, then finished.
  upstreams.openhands.nextScript = {
    ...FakeOpenHands.defaultScript(),
    startSteps: ["WORKING"],
    execution: ["running", "running", "running", "running", "finished"],
  };
  const github = upstreams.github.requests.length;
  const openhands = upstreams.openhands.requests.length;
  await onSimulatedClock(midnight, async (at) => {
    let sent = 0;
    const ticks = DAY_MS / TICK_MS;
    for (let k = 0; k < ticks; k++) {
      const tickAt = midnight + k * TICK_MS;
      // The requests that arrive before this tick, each at its own time.
      while (sent < tasks && midnight + Math.floor((sent * DAY_MS) / tasks) <= tickAt) {
        at(midnight + Math.floor((sent * DAY_MS) / tasks) + 1_000);
        const { ctx, settled } = executionContext();
        const response = await worker.fetch(
          await commentDelivery(template, { repository: `Hello-World-${sent % REPOSITORIES}` }),
          env,
          ctx,
        );
        await response.text();
        await settled();
        if (response.status !== 202) throw new Error(`day: webhook answered ${response.status}`);
        sent++;
      }
      at(tickAt + 5_000);
      const { ctx, settled } = executionContext();
      await worker.scheduled({ scheduledTime: tickAt, cron: CRON, noRetry: () => {} }, env, ctx);
      await settled();
    }
  });
  const counts = kv.resetCounts();
  const ended: Record<string, number> = {};
  for (const [name, entry] of kv.data) {
    if (!name.startsWith("task:")) continue;
    const s = (entry.metadata as { s?: string } | undefined)?.s ?? "?";
    ended[s] = (ended[s] ?? 0) + 1;
  }
  return {
    tasks,
    kv: counts,
    github: upstreams.github.requests.length - github,
    openhands: upstreams.openhands.requests.length - openhands,
    ended,
    fits: (Object.keys(FREE) as (keyof KvCounts)[]).every((r) => counts[r] <= FREE[r]),
  };
}

export interface DaysReport {
  markdown: string;
  capacity: number;
}

/** Days of 100–500 requests, then the largest number of requests a day that still fits, by bisection. */
export async function runDays(upstreams: Upstreams, template: Payload): Promise<DaysReport> {
  const rows: DayResult[] = [];
  for (const n of [100, 200, 300, 400, 500]) rows.push(await simulateDay(upstreams, template, n));
  let low = Math.max(0, ...rows.filter((r) => r.fits).map((r) => r.tasks));
  let high = Math.min(10_000, ...rows.filter((r) => !r.fits).map((r) => r.tasks));
  while (high - low > 10) {
    const mid = Math.floor((low + high) / 2);
    if ((await simulateDay(upstreams, template, mid)).fits) low = mid;
    else high = mid;
  }
  const pct = (n: number, limit: number) => `${n} (${Math.round((100 * n) / limit)} %)`;
  const dayTable = table(
    [
      "requests in the day",
      "KV writes",
      "KV lists",
      "KV deletes",
      "KV reads",
      "GitHub requests",
      "OpenHands requests",
      "fits the Free plan",
      "tasks at the end",
    ],
    rows.map((r) => [
      String(r.tasks),
      pct(r.kv.writes, FREE.writes),
      pct(r.kv.lists, FREE.lists),
      pct(r.kv.deletes, FREE.deletes),
      pct(r.kv.reads, FREE.reads),
      String(r.github),
      String(r.openhands),
      r.fits ? "yes" : "**no**",
      Object.entries(r.ended)
        .map(([s, n]) => `${n} ${s}`)
        .join(", "),
    ]),
  );
  const markdown = [
    "## A day on the Free plan",
    "",
    "A whole day simulated on one KV namespace: the requests spread evenly over 24 hours (round the clock is the Free plan's worst " +
      `case, as the cron never gets an idle hour), on ${REPOSITORIES} repositories without a \`.github/openhands.yml\`, each agent run ` +
      `about ten minutes in the fake OpenHands, and all ${TICKS_PER_DAY} cron ticks (\`${CRON}\`) of the day in between, the hourly sweeps and the daily learning of ` +
      "the App's owner and the agent's account included. The Worker runs on a simulated clock. Every count comes from the KV binding and " +
      "the fakes. The Free plan allows 1,000 KV writes, 1,000 lists, 1,000 deletes and 100,000 reads a day.",
    "",
    dayTable,
    "",
    `**Free-plan capacity: about ${low} requests a day** (the largest day that fits, found by bisection to within 10).`,
  ].join("\n");
  return { markdown, capacity: low };
}
