import { runCommand } from "../commands/run-command";
import { httpStatus } from "../http-status";
import { recordTask } from "../lifecycle/queued";
import { errorName, log, redact } from "../log";
import type { Services } from "../services";
import type { TaskEntry } from "../tasks/store";
import type { Task, TaskStatus } from "../tasks/task";
import { type Command, parseCommand } from "../trigger/command";
import type { TriggerRequest } from "../trigger/request";
import { advanceQueued } from "./advance-queued";

/**
 * A request, once known to be one: a command, a request already recorded (a
 * redelivery), or a new task. `run` is what remains after recording; the
 * webhook hands it to `waitUntil` so GitHub gets its answer first.
 */
export type Recorded =
  | { kind: "command"; command: Command; run: () => Promise<void> }
  | { kind: "duplicate"; task: Task }
  | { kind: "recorded"; task: Task; run: (task?: Task) => Promise<void> };

/** Records the request (KV errors are thrown: not recorded means not accepted). */
export async function recordRequest(
  services: Services,
  request: TriggerRequest,
  delivery?: string,
  /** The task index when the caller already listed it (the cron). */
  entries?: readonly TaskEntry[],
): Promise<Recorded> {
  const command = request.kind === "label" ? undefined : parseCommand(request.request);
  if (command) {
    // Recorded like a request, so that a redelivery or a replayed signed body is not answered twice.
    const recorded = await recordTask(services, request, "answered");
    if (recorded.duplicate) return { kind: "duplicate", task: recorded.task };
    return {
      kind: "command",
      command,
      run: () =>
        runCommand(services, recorded.task, command)
          .then((outcome) => log("info", "command.handled", { delivery, command, outcome }))
          .catch((error: unknown) => log("error", "command.failed", { delivery, command, ...errorFields(error) })),
    };
  }
  const recorded = await recordTask(services, request);
  if (recorded.duplicate) return { kind: "duplicate", task: recorded.task };
  return {
    kind: "recorded",
    task: recorded.task,
    // From here on a crash, an outage or a lost answer costs at most a delay: the cron replays what is left.
    run: async (task = recorded.task) => {
      try {
        const next = await advanceQueued(services, task, entries ?? (await services.store.entries()));
        log("info", "webhook.handled", { delivery, task: recorded.task.id, outcome: outcomeOf(next.status) });
      } catch (error) {
        log("error", "webhook.failed", { delivery, task: recorded.task.id, ...errorFields(error) });
      }
    },
  };
}

/** What became of a request its webhook took as far as it goes at once, in the log's words. */
function outcomeOf(status: TaskStatus): "rejected" | "queued" | "failed" | "started" {
  if (status === "rejected" || status === "queued") return status;
  return status === "failed" || status === "timed_out" ? "failed" : "started";
}

function errorFields(error: unknown) {
  return {
    error: errorName(error),
    status: httpStatus(error),
    // Our own errors say what broke; upstream text never reaches here unredacted.
    message: error instanceof Error ? redact(error.message).slice(0, 300) : undefined,
  };
}
