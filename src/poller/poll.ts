import { gitHubRetryAt } from "../github/rate-limit";
import { httpStatus } from "../http-status";
import { errorName, log } from "../log";
import { OpenHandsError } from "../openhands/errors";
import type { Services } from "../services";
import { pendingEntries } from "../tasks/store";
import { isPending, type Task } from "../tasks/task";
import { planWork, receivedWork, type Work } from "./plan";

/** Kept free for Octokit's one quick retry of a failed GitHub call. */
const RETRY_RESERVE = 4;

export interface TickSummary {
  listed: boolean;
  pending: number;
  /** Tasks whose status changed this tick. */
  advanced: number;
  /** Tasks that reached a final status this tick. */
  ended: number;
  /** Tasks whose work was left for a later tick: out of budget, rate limited, or upstream trouble. */
  deferred: number;
  /** Outbound requests made by this tick. */
  subrequests: number;
}

/**
 * One cron tick: list the pending tasks, read their statuses in batches, plan
 * the work each needs (plan.ts) and run it, oldest first, within the budget.
 */
export async function pollTasks(services: Services, options: { sweep?: boolean } = {}): Promise<TickSummary> {
  const { store, budget } = services;
  const report: TickSummary = { listed: false, pending: 0, advanced: 0, ended: 0, deferred: 0, subrequests: 0 };
  const now = services.now().getTime();

  const activeUntil = await store.activeUntil();
  if (activeUntil === undefined && !options.sweep) return report;
  const { tasks: entries, received } = await store.index();
  report.listed = true;
  const pending = pendingEntries(entries);
  // Nothing pending: the marker runs out on its own, no delete needed.
  if (pending.length === 0 && received.length === 0) return report;
  await store.markActive(now, activeUntil);

  const tasks = (await Promise.all(pending.map((entry) => store.get(entry.id)))).filter(
    (task): task is Task => task !== null && isPending(task.status),
  );
  report.pending = tasks.length;

  try {
    const work = [...receivedWork(services, received, entries), ...(await planWork(services, tasks, entries))];
    // Oldest first: when one tick cannot serve everyone, the longest-waiting go first; what is
    // only nice to know (a running agent's activity) goes after everything that moves a task.
    work.sort((a, b) => Number(a.optional ?? false) - Number(b.optional ?? false) || a.createdMs - b.createdMs);
    const authenticated = new Set<number>();
    // Installations GitHub rate-limited this tick: their other work waits for a later tick.
    const limited = new Set<number>();
    for (const item of work) {
      const installation = item.installationId;
      const tokenCost = authenticated.has(installation) ? 0 : 1;
      if (limited.has(installation) || !budget.canAfford(item.cost + tokenCost + RETRY_RESERVE)) {
        report.deferred++;
        continue;
      }
      authenticated.add(installation);
      if ((await runWork(services, item, report)) === "github_rate_limited") limited.add(installation);
    }
  } catch (error) {
    // A batch read failed or OpenHands rate-limited us: nothing is lost, the next tick asks again.
    if (!(error instanceof OpenHandsError)) throw error;
    log("warn", "poll.openhands_unavailable", { reason: error.message, status: error.status });
  }
  report.subrequests = budget.used;
  return report;
}

async function runWork(
  services: Services,
  item: Work,
  report: TickSummary,
): Promise<"done" | "deferred" | "github_rate_limited"> {
  try {
    const result = await item.run();
    if (result !== "unchanged") report.advanced++;
    if (result === "ended") report.ended++;
    return "done";
  } catch (error) {
    // One task's trouble must not hold up the others; it stays as it was and is retried next tick.
    if (error instanceof OpenHandsError && error.status === 429) throw error;
    log("warn", "poll.task_deferred", {
      task: item.id,
      status: httpStatus(error),
      reason: errorName(error),
    });
    report.deferred++;
    return gitHubRetryAt(error, services.now().getTime()) === undefined ? "deferred" : "github_rate_limited";
  }
}
