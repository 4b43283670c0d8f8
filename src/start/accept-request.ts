import { log } from "../log";
import { conversationIdFor } from "../tasks/ids";
import { newTask } from "../tasks/task";
import type { TriggerRequest } from "../trigger/request";
import { advanceQueued } from "./advance-queued";
import type { Services } from "./services";

/** The cron leaves a fresh task to the webhook that is working on it for this long. */
const WEBHOOK_OWNS_TASK_MS = 2 * 60_000;

export type AcceptOutcome = "duplicate" | "rejected" | "started" | "queued" | "failed";

/**
 * Records the request as a task before anything else, then advances it. From
 * the moment it is recorded, a crash, an outage or a lost answer costs at most
 * a delay: the cron picks up any queued task and replays the remaining steps.
 */
export async function acceptRequest(services: Services, request: TriggerRequest): Promise<AcceptOutcome> {
  const { store } = services;
  const id = await conversationIdFor(request.triggerKey);
  if (await store.get(id)) {
    log("info", "request.duplicate", { task: id, trigger: request.triggerKey });
    return "duplicate";
  }
  const now = services.now();
  const task = newTask(id, request, now, new Date(now.getTime() + WEBHOOK_OWNS_TASK_MS));
  await store.save(task);
  log("info", "task.created", { task: id, trigger: request.triggerKey, repository: request.repository, number: request.number });

  const next = await advanceQueued(services, task, await store.entries());
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
