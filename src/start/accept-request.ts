import type { Services } from "../services";
import type { TaskEntry } from "../tasks/store";
import type { Task } from "../tasks/task";
import { advanceQueued } from "./advance-queued";

export type AcceptOutcome = "rejected" | "started" | "queued" | "failed";

/**
 * Takes a freshly recorded task as far as it goes right away. From here on, a
 * crash, an outage or a lost answer costs at most a delay: the cron replays the
 * remaining steps of any queued task.
 */
export async function acceptRequest(
  services: Services,
  task: Task,
  entries?: readonly TaskEntry[],
): Promise<AcceptOutcome> {
  const next = await advanceQueued(services, task, entries ?? (await services.store.entries()));
  switch (next.status) {
    case "rejected":
      return "rejected";
    case "queued":
      return "queued";
    case "failed":
    case "timed_out":
      return "failed";
    default:
      return "started";
  }
}
