import { httpStatus } from "../http-status";
import { endTask } from "../lifecycle/ended";
import { keepRunningAfterStop, requestStop } from "../lifecycle/running";
import { log } from "../log";
import type { AppConversation } from "../openhands/types";
import type { Services } from "../services";
import { conversationIdOf, type Task } from "../tasks/task";

/** Sandbox states in which the agent may still be working. */
const ALIVE = ["RUNNING", "STARTING"];

/**
 * Pausing keeps the conversation readable at its link and frees its slot; a
 * task that never reached OpenHands just ends. The sandbox to pause is the
 * conversation's own `sandbox_id`, which differs from the conversation id when
 * the user groups sandboxes. A conversation not yet made is paused by the poller
 * as soon as it exists. A task is marked stopped only once nothing runs: the
 * service answers 404 for runtime errors too, so a 404 is checked by reading
 * the status again, and when the agent still runs the thread is told so. `supersededBy`: the head
 * of a push whose review replaces this one, which its comment names.
 */
export async function stopTask(services: Services, task: Task, by: string, supersededBy?: string): Promise<Task> {
  const newlySuperseded = supersededBy !== undefined && supersededBy !== task.supersededBy;
  let current = newlySuperseded ? { ...task, supersededBy } : task;
  if (current.status !== "queued") {
    // Recorded before anything is paused: a tick that read the task earlier re-reads it before it resumes,
    // continues or forwards to the conversation (poller/act.ts, start/follow-up.ts), and leaves it alone.
    if (task.stopRequestedBy !== by || newlySuperseded) current = await requestStop(services, task, by, supersededBy);
    const [conversation] = await services.openhands.conversations([conversationIdOf(current)]);
    if (!conversation && current.status === "starting") return current;
    if (conversation && ALIVE.includes(conversation.sandbox_status) && !(await pause(services, conversation))) {
      return keepRunningAfterStop(services, current, by);
    }
  }
  return endTask(services, current, { status: "stopped", by });
}

/** Whether the sandbox is paused (or gone) once asked to pause. */
async function pause(services: Services, conversation: AppConversation): Promise<boolean> {
  try {
    await services.openhands.pauseSandbox(conversation.sandbox_id ?? conversation.id);
    return true;
  } catch (error) {
    if (httpStatus(error) !== 404) throw error;
    const [after] = await services.openhands.conversations([conversation.id]);
    const paused = !after || !ALIVE.includes(after.sandbox_status);
    log("warn", "openhands.pause_404", { conversation: conversation.id, paused, sandbox: after?.sandbox_status });
    return paused;
  }
}
