import type { Config } from "../config";
import { ACTIVE_STATUSES } from "../tasks/task";
import type { TaskEntry } from "../tasks/store";

const HOUR_MS = 3600_000;

export type LimitVerdict =
  | { kind: "go" }
  | { kind: "wait_for_slot"; running: number }
  | { kind: "rate_limited"; scope: "thread" | "installation"; limit: number; retryAt: Date; alreadyTold: boolean };

/**
 * Whether a request may start now, from the task index alone (one list()).
 * Rate limits stop runaway triggering, e.g. two bots answering each other or a
 * script editing comments in a loop; the slot cap keeps OpenHands from pausing
 * our oldest sandboxes, which it does when a user runs more than ten.
 */
export function checkLimits(
  entries: readonly TaskEntry[],
  self: { id: string; thread: string; installationId: number },
  now: number,
  config: Pick<Config, "maxRunning" | "maxStartsPerThreadPerHour" | "maxStartsPerInstallationPerHour">,
): LimitVerdict {
  const others = entries.filter((e) => e.id !== self.id);
  const recent = others.filter((e) => now - e.createdMs < HOUR_MS && e.status !== "rejected");
  const scopes = [
    { scope: "thread" as const, limit: config.maxStartsPerThreadPerHour, match: (e: TaskEntry) => e.thread === self.thread },
    { scope: "installation" as const, limit: config.maxStartsPerInstallationPerHour, match: (e: TaskEntry) => e.installationId === self.installationId },
  ];
  for (const { scope, limit, match } of scopes) {
    const counted = recent.filter(match);
    if (counted.length >= limit) {
      const oldest = Math.min(...counted.map((e) => e.createdMs));
      // Say it once per window: an earlier rate-limited request on this thread already told them.
      const alreadyTold = others.some(
        (e) => e.rejection === "rate_limited" && e.thread === self.thread && now - e.createdMs < HOUR_MS,
      );
      return { kind: "rate_limited", scope, limit, retryAt: new Date(oldest + HOUR_MS), alreadyTold };
    }
  }
  const running = others.filter((e) => ACTIVE_STATUSES.includes(e.status)).length;
  if (running >= config.maxRunning) return { kind: "wait_for_slot", running };
  return { kind: "go" };
}
