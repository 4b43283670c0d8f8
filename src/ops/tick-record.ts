import type { TickSummary } from "../poller/poll";
import type { Services } from "../services";
import { addUsage, emptyUsage, type Usage } from "../usage";

/**
 * The cron's own account of itself, for `GET /status`: one KV key, `status:cron`,
 * kept only when STATUS_TOKEN is set (without a reader, nothing is recorded).
 *
 * Counted (measured at the source, `usage.ts`): every KV read, write, delete and
 * list, and every GitHub and OpenHands request, that cron ticks make, added up
 * per UTC day of the tick, with the number of ticks. The record's own read and
 * write are counted too, with the next save.
 *
 * Cost: a tick that did work (it listed tasks, wrote or deleted a key, or called
 * an upstream) saves the record, one KV read and one write, at most once every
 * thirty minutes. Any other tick keeps its counts in this isolate's memory (plain
 * numbers) for the next tick that saves. An idle tick never saves. So at most
 * 48 writes a day while work is pending around the clock (the Free plan allows
 * 1,000, and a task costs 3), and about 24 on an idle day (the hourly sweep
 * lists, so it counts as work).
 *
 * Missed, so the day's counts are a floor: counts still held in memory when the
 * isolate goes away, and the counts of one of two ticks in different isolates
 * that save at the same moment (the last write wins). Webhook deliveries are not
 * counted here at all: `/status` estimates them (`status.ts`).
 */
export const STATUS_KEY = "status:cron";
const SAVE_EVERY_MS = 30 * 60_000;
/** Today and the day before, so a full day can be read after midnight. */
const DAYS_KEPT = 2;

export interface DayCounts extends Usage {
  ticks: number;
}

export interface StatusRecord {
  savedAt: string;
  /** The tick that saved the record: the most recent tick that did work, up to thirty minutes old. */
  lastTick: { at: string; report: TickSummary };
  /** By UTC day (`YYYY-MM-DD`). */
  days: Record<string, DayCounts>;
}

// This isolate's counts not saved yet, by UTC day, and when a save was last made
// or seen. Plain values, changed synchronously: nothing here waits on anything.
let unsaved: Record<string, DayCounts> = {};
let lastSaveMs: number | undefined;

/** Test hook: a fresh isolate. */
export function forgetUnsavedTicks(): void {
  unsaved = {};
  lastSaveMs = undefined;
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function emptyDay(): DayCounts {
  return { ...emptyUsage(), ticks: 0 };
}

function hold(counts: Record<string, DayCounts>): void {
  for (const [day, more] of Object.entries(counts)) {
    unsaved[day] ??= emptyDay();
    const held = unsaved[day];
    addUsage(held, more);
    held.ticks += more.ticks;
  }
}

function recent(savedMs: number | undefined, now: number): boolean {
  return savedMs !== undefined && now - savedMs >= 0 && now - savedMs < SAVE_EVERY_MS;
}

/** Adds this tick to the day's counts, and saves them when the tick did work and the last save is thirty minutes old. */
export async function recordTick(services: Services, report: TickSummary): Promise<"saved" | "held"> {
  const now = services.now().getTime();
  const day = utcDay(now);
  const tick = services.usage.take();
  hold({ [day]: { ...tick, ticks: 1 } });
  const didWork = report.listed || tick.kvWrites + tick.kvDeletes + tick.githubRequests + tick.openhandsRequests > 0;
  if (!didWork || recent(lastSaveMs, now)) return "held";

  // Recorded before the first await, so an overlapping tick in this isolate neither saves nor counts them twice.
  lastSaveMs = now;
  const saving = unsaved;
  unsaved = {};
  try {
    const stored = await services.kv.get<StatusRecord>(STATUS_KEY, "json");
    const storedMs = stored ? Date.parse(stored.savedAt) : undefined;
    if (recent(storedMs, now)) {
      // Another isolate saved a moment ago: keep ours for a later save.
      lastSaveMs = storedMs;
      hold(saving);
      return "held";
    }
    const days: Record<string, DayCounts> = { ...stored?.days };
    for (const [savingDay, counts] of Object.entries(saving)) {
      const total = addUsage({ ...emptyDay(), ...days[savingDay] }, counts);
      total.ticks = (days[savingDay]?.ticks ?? 0) + counts.ticks;
      days[savingDay] = total;
    }
    const kept = Object.keys(days).sort().slice(-DAYS_KEPT);
    const at = new Date(now).toISOString();
    const record: StatusRecord = {
      savedAt: at,
      lastTick: { at, report },
      days: Object.fromEntries(kept.map((d) => [d, days[d]!])),
    };
    await services.kv.put(STATUS_KEY, JSON.stringify(record));
    return "saved";
  } catch (error) {
    hold(saving);
    lastSaveMs = undefined;
    throw error;
  } finally {
    // The record's own read and write, counted with the next save.
    hold({ [day]: { ...services.usage.take(), ticks: 0 } });
  }
}
