import { log } from "../log";
import { conversationIdFor } from "../tasks/ids";
import type { TaskEntry } from "../tasks/store";
import { type Task, newTask } from "../tasks/task";
import type { TriggerRequest } from "../trigger/request";
import { advanceQueued } from "./advance-queued";
import type { Services } from "../services";

/** The cron leaves a fresh task to the webhook that is working on it for this long. */
const WEBHOOK_OWNS_TASK_MS = 2 * 60_000;

export type AcceptOutcome = "rejected" | "started" | "queued" | "failed";

/**
 * Records the request as a queued task, or finds it already recorded (GitHub
 * delivers at least once). This runs before the webhook answers: if KV cannot
 * take the write, GitHub gets a 5xx and the delivery can be redelivered, so a
 * request is never acknowledged without being recorded.
 */
export async function recordRequest(
  services: Services,
  request: TriggerRequest,
  /** "answered" for a command: it is done as soon as it runs, and kept only against replays. */
  as: "queued" | "answered" = "queued",
): Promise<{ task: Task; duplicate: boolean }> {
  const { store } = services;
  const id = await conversationIdFor(request.triggerKey);
  const existing = await store.get(id);
  if (existing) {
    log("info", "request.duplicate", { task: id, trigger: request.triggerKey, status: existing.status });
    return { task: existing, duplicate: true };
  }
  const now = services.now();
  const queued = newTask(id, request, now, new Date(now.getTime() + WEBHOOK_OWNS_TASK_MS));
  const task: Task = as === "answered" ? { ...queued, status: "answered", nextAttemptAt: undefined } : queued;
  await store.save(task);
  log("info", "task.created", { task: id, trigger: request.triggerKey, repository: request.repository, number: request.number });
  return { task, duplicate: false };
}

/**
 * Takes a freshly recorded task as far as it goes right away. From here on, a
 * crash, an outage or a lost answer costs at most a delay: the cron replays the
 * remaining steps of any queued task.
 */
export async function acceptRequest(services: Services, task: Task, entries?: readonly TaskEntry[]): Promise<AcceptOutcome> {
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
