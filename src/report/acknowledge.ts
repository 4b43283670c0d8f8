import { addEyes } from "../github/thread";
import { httpStatus } from "../http-status";
import { log } from "../log";
import type { Services } from "../services";
import type { Task } from "../tasks/task";
import { threadOf } from "../trigger/request";

/**
 * 👀 on the comment that asked. It must not hold up the start: when GitHub
 * refuses it, the task remembers it is owed (false) and the cron adds it later.
 */
export async function acknowledge(services: Pick<Services, "github">, task: Task): Promise<boolean> {
  const { request } = task;
  try {
    const thread = threadOf(request);
    await addEyes(services.github(request.installationId), thread, request.reactTo);
    return true;
  } catch (error) {
    const status = httpStatus(error);
    log("warn", "github.reaction_failed", { task: task.id, status });
    // A deleted comment will never take a reaction.
    return status === 404 || status === 410;
  }
}
