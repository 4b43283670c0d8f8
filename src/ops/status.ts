import { Hono } from "hono";
import { boundSecrets, resolveEnv, SERVICE, type WorkerEnv } from "../config";
import { redact } from "../log";
import { pendingEntries, type TaskEntry, TaskStore } from "../tasks/store";
import { mayCarryError, PENDING_STATUSES, type PendingStatus, type Task } from "../tasks/task";
import { addUsage, emptyUsage, FREE_PLAN_DAILY_LIMITS, USAGE_FIELDS, type Usage } from "../usage";
import { type DayCounts, STATUS_KEY, type StatusRecord, utcDay } from "./tick-record";
import { hasBearerToken, statusToken } from "./token";

/**
 * `GET /status`, for the operator: what is pending, what went wrong lately, when
 * the cron last did work, and the day's usage against the Free plan. Behind
 * `Authorization: Bearer <STATUS_TOKEN>`; without STATUS_TOKEN the route does not
 * exist. One call costs one KV list, one read of the cron's record, and at most
 * MAX_ERROR_READS reads of tasks: lists are 1,000 a day on Free, so poll it
 * every few minutes at most.
 */
export const statusRoute = new Hono<{ Bindings: WorkerEnv }>();

const MAX_ERRORS = 10;
/** Tasks read to find the last errors: the newest ones that can carry one. */
const MAX_ERROR_READS = 20;

/**
 * What one request costs its webhook delivery, answer and `waitUntil` together,
 * measured on the costlier common path (the repository's config not cached):
 * writes of the received record, the config cache, queued, the activity marker, starting;
 * the received record's deletion; the limits' list; the token, two config
 * files, the permission, the discussion, 👀, the tracking comment's lookup and
 * post; the start (a request made moments ago needs no replay check). Among the reads, the
 * thread's last conversation, which the request may go on with (`start/follow-up.ts`).
 * `test/ops.test.ts` holds it to the measured figure.
 */
export const WEBHOOK_COST_PER_TASK: Usage = {
  kvReads: 6,
  kvWrites: 5,
  kvDeletes: 1,
  kvLists: 1,
  githubRequests: 8,
  openhandsRequests: 1,
};

statusRoute.get("/", async (c) => {
  const env = await resolveEnv(c.env);
  const token = statusToken(env);
  // Not configured: the same 404 as any unknown path.
  if (!token) return c.notFound();
  if (!(await hasBearerToken(c.req.header("authorization"), token))) {
    // The same answer whether the header is missing, malformed or wrong.
    return c.json({ error: "unauthorized" }, 401, { "WWW-Authenticate": "Bearer" });
  }
  const now = Date.now();
  const store = new TaskStore(env.TASKS);
  const [index, record] = await Promise.all([store.index(), env.TASKS.get<StatusRecord>(STATUS_KEY, "json")]);
  const errors = await lastErrors(store, index.tasks, (text) => redact(text, boundSecrets(env)));
  return c.json({
    ok: true,
    service: SERVICE,
    at: new Date(now).toISOString(),
    tasks: pendingTasks(index.tasks, index.received.length, now),
    threadGone: goneThreads(index.tasks),
    lastErrors: errors,
    cron: { lastRecordedTick: record?.lastTick ?? null },
    usage: dailyUsage(record, index.tasks, now),
  });
});

/** From the list's metadata alone, as the poller sees them. */
function pendingTasks(tasks: readonly TaskEntry[], received: number, now: number) {
  const pending = pendingEntries(tasks);
  const byState = Object.fromEntries(PENDING_STATUSES.map((s) => [s, 0])) as Record<PendingStatus, number>;
  for (const entry of pending) byState[entry.status as PendingStatus]++;
  const oldest = pending[0];
  return {
    pending: pending.length,
    pendingByState: byState,
    /** Webhook events recorded before their repository's config was read, not yet decided. */
    received,
    oldestPending: oldest
      ? {
          task: oldest.id,
          state: oldest.status,
          createdAt: new Date(oldest.createdMs).toISOString(),
          ageSeconds: Math.max(0, Math.round((now - oldest.createdMs) / 1000)),
        }
      : null,
  };
}

/**
 * Tasks ended because their thread takes no comments (deleted, transferred, locked, archived, the
 * App removed from the repository), from the list's metadata: as many as ended records are kept
 * (a day), the newest first.
 */
function goneThreads(tasks: readonly TaskEntry[]) {
  const gone = tasks.filter((entry) => entry.threadGone !== undefined).sort((a, b) => b.createdMs - a.createdMs);
  return {
    count: gone.length,
    newest: gone.slice(0, MAX_ERRORS).map((entry) => ({
      task: entry.id,
      state: entry.status,
      createdAt: new Date(entry.createdMs).toISOString(),
      githubStatus: entry.threadGone,
    })),
  };
}

/** The `lastError` of the newest tasks that have one, newest first, redacted again on the way out. */
async function lastErrors(store: TaskStore, tasks: readonly TaskEntry[], scrub: (text: string) => string) {
  const candidates = tasks
    .filter((entry) => mayCarryError(entry.status) || entry.threadGone !== undefined)
    .sort((a, b) => b.createdMs - a.createdMs)
    .slice(0, MAX_ERROR_READS);
  const read = await Promise.all(candidates.map((entry) => store.get(entry.id)));
  return read
    .filter((task): task is Task & { lastError: string } => Boolean(task?.lastError))
    .sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt))
    .slice(0, MAX_ERRORS)
    .map((task) => ({ task: task.id, state: task.status, at: task.updatedAt, error: scrub(task.lastError) }));
}

type Counted = DayCounts;
type Estimated = Usage & { tasks: number };

/**
 * The day's usage, field by field:
 * - `cronCounted`: measured by the cron ticks themselves (`tick-record.ts`), a floor.
 * - `webhookEstimated`: not measured. Each task created that day (its `task:` key is
 *   kept a day after its task ends, so the previous day's figure falls short as the
 *   day goes on) times WEBHOOK_COST_PER_TASK. Not included: deliveries that asked
 *   for nothing (a few reads each, no write), and these `/healthz` and `/status` calls.
 * - `total`: the two added; `percentOfLimit`: `total` against the Free plan's daily KV limits.
 */
function dailyUsage(record: StatusRecord | null, tasks: readonly TaskEntry[], now: number) {
  const today = utcDay(now);
  const yesterday = utcDay(now - 24 * 3600_000);
  const dayOf = (day: string) => {
    const cronCounted: Counted = { ticks: 0, ...emptyUsage(), ...record?.days[day] };
    const created = tasks.filter((entry) => utcDay(entry.createdMs) === day).length;
    const webhookEstimated: Estimated = { tasks: created, ...emptyUsage() };
    for (const field of USAGE_FIELDS) webhookEstimated[field] = created * WEBHOOK_COST_PER_TASK[field];
    const total = addUsage(addUsage(emptyUsage(), cronCounted), webhookEstimated);
    const percentOfLimit = Object.fromEntries(
      Object.entries(FREE_PLAN_DAILY_LIMITS).map(([field, limit]) => [
        field,
        Math.round((total[field as keyof Usage] / limit) * 1000) / 10,
      ]),
    ) as Record<keyof typeof FREE_PLAN_DAILY_LIMITS, number>;
    return { day, cronCounted, webhookEstimated, total, percentOfLimit };
  };
  const { day, ...usage } = dayOf(today);
  return { day, limits: FREE_PLAN_DAILY_LIMITS, ...usage, previousDay: dayOf(yesterday) };
}
