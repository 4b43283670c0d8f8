import type { Config } from "../config";
import type { TaskEntry } from "../tasks/store";
import { isActive, WEBHOOK_OWNS_TASK_MS } from "../tasks/task";

const HOUR_MS = 3600_000;

export type LimitVerdict =
  | { kind: "go" }
  | { kind: "wait_for_slot"; running: number }
  | { kind: "over_limit"; scope: "thread" | "installation"; limit: number; retryAt: Date };

/**
 * Whether a request may start now, from the task index alone (one list()).
 * The hourly limits stop runaway triggering (two bots answering each other, a
 * script editing comments in a loop); a request over one waits its turn in the
 * queue rather than being dropped. They count conversations *started* in the
 * last hour, so a burst that waited does not all start at once when the hour
 * is over. The slot cap keeps OpenHands from pausing our oldest sandboxes,
 * which it does when a user runs more than ten.
 */
export function checkLimits(
  entries: readonly TaskEntry[],
  self: { id: string; thread: string; installationId: number; createdMs: number },
  now: number,
  config: Pick<Config, "maxRunning" | "maxStartsPerThreadPerHour" | "maxStartsPerInstallationPerHour">,
): LimitVerdict {
  const others = entries.filter((e) => e.id !== self.id);
  const started = others.filter((e) => e.startedMs !== undefined && now - e.startedMs < HOUR_MS);
  const scopes = [
    {
      scope: "thread" as const,
      limit: config.maxStartsPerThreadPerHour,
      match: (e: TaskEntry) => e.thread === self.thread,
    },
    {
      scope: "installation" as const,
      limit: config.maxStartsPerInstallationPerHour,
      match: (e: TaskEntry) => e.installationId === self.installationId,
    },
  ];
  for (const { scope, limit, match } of scopes) {
    const counted = started
      .filter(match)
      .map((e) => e.startedMs!)
      .sort((a, b) => a - b);
    if (counted.length >= limit) {
      // The moment enough of those starts leave the window for one more to fit.
      return { kind: "over_limit", scope, limit, retryAt: new Date(counted[counted.length - limit]! + HOUR_MS) };
    }
  }
  // Webhooks arriving together each see the others as queued, not yet running: the
  // fresh ones recorded before this one take their slots first, or a burst would all start.
  const ahead = others.filter(
    (e) =>
      e.status === "queued" &&
      now - e.createdMs < WEBHOOK_OWNS_TASK_MS &&
      (e.createdMs < self.createdMs || (e.createdMs === self.createdMs && e.id < self.id)),
  ).length;
  const running = others.filter((e) => isActive(e.status)).length;
  if (running + ahead >= config.maxRunning) return { kind: "wait_for_slot", running };
  return { kind: "go" };
}
