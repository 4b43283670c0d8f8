import { endTask } from "../lifecycle/ended";
import { markAnswerUnread, markContinued, markGoneRead, markResumed, showProgress } from "../lifecycle/running";
import { endSucceeded } from "../lifecycle/succeeded";
import { readFinalResponse, readLastError, readLastExecutionStatus } from "../openhands/outcome";
import type { AppConversation } from "../openhands/types";
import { CONTINUE_AFTER_RESUME_PROMPT } from "../prompt/build";
import type { Services } from "../services";
import { conversationIdOf, isPending, runStartedMs, type Task } from "../tasks/task";
import { goneForGood, type RunDecision } from "./decide";

/** Acts on what the conversation's status means: reads what the report needs, then makes the move. */
export async function actOnRun(
  services: Services,
  task: Task,
  conversation: AppConversation,
  decision: Exclude<RunDecision, { kind: "wait" }>,
): Promise<Task> {
  const { openhands } = services;
  switch (decision.kind) {
    case "finished":
      return endFinished(services, task, conversation);
    case "agent_failed":
      return endAgentFailure(services, task, conversation, decision.status);
    case "fail":
      // No conversation, or its sandbox in ERROR: believed once it lasts (decide.ts goneForGood).
      if (!goneForGood(task, services.now().getTime())) return markGoneRead(services, task, decision.reason.kind);
      return endTask(services, task, { status: "failed", reason: decision.reason });
    case "timeout":
      return endTask(services, task, { status: "timed_out", phase: "run" });
    case "needs_input":
      return showProgress(services, task, "needs_input");
    case "back_to_work":
      return showProgress(services, task, "running");
    case "continue":
      if (await stoppedMeanwhile(services, task)) return task;
      // 409 while the sandbox is not RUNNING after all: the next tick tries again.
      await openhands.sendMessage(conversationIdOf(task), CONTINUE_AFTER_RESUME_PROMPT);
      return markContinued(services, task);
    case "from_events":
      return endFromEvents(services, task, conversation, decision.mayResume);
  }
}

/** The sandbox no longer reports a status: the persisted events still tell how the run ended. */
async function endFromEvents(
  services: Services,
  task: Task,
  conversation: AppConversation,
  mayResume: boolean,
): Promise<Task> {
  const { openhands } = services;
  let last: string | undefined;
  try {
    last = await readLastExecutionStatus(openhands, conversation.id);
  } catch (error) {
    // The events cannot be read: the run's deadline still holds on this path.
    if (services.now().getTime() - runStartedMs(task) > services.config.runTimeoutMs)
      return endTask(services, task, { status: "timed_out", phase: "run" });
    throw error;
  }
  if (last === "finished") return endFinished(services, task, conversation);
  if (last === "error" || last === "stuck") {
    return endAgentFailure(services, task, conversation, last);
  }
  if (mayResume && !task.resumed) {
    if (await stoppedMeanwhile(services, task)) return task;
    // OpenHands pauses the oldest sandboxes when too many run; bring ours back once.
    await openhands.resumeSandbox(conversation.sandbox_id ?? conversation.id);
    return markResumed(services, task);
  }
  if (!mayResume && !goneForGood(task, services.now().getTime()))
    return markGoneRead(services, task, "sandbox_missing");
  const reason = { kind: mayResume ? "sandbox_not_back" : "sandbox_gone" } as const;
  return endTask(services, task, { status: "failed", reason });
}

/**
 * Someone asked to stop since this tick read the task: its record says so (the
 * stop is recorded before the sandbox is paused). Nothing may wake the agent then.
 */
async function stoppedMeanwhile(services: Services, task: Task): Promise<boolean> {
  const now = await services.store.get(task.id);
  return !now || !isPending(now.status) || now.stopRequestedBy !== undefined;
}

/**
 * OpenHands has the final answer at the agent-server (while the sandbox runs) or
 * in its events. When neither answers (an agent-server error, routes that differ
 * on a deployment), the ticks try again for `GIVE_UP_ANSWER_AFTER_MS`, and then
 * the result is posted without it: a run that ended always reaches the thread.
 */
const GIVE_UP_ANSWER_AFTER_MS = 10 * 60_000;

type Answer = { summary: string; unread?: true } | { later: Task };

async function finalAnswer(services: Services, task: Task, conversation: AppConversation): Promise<Answer> {
  try {
    return { summary: await readFinalResponse(services.openhands, conversation) };
  } catch (error) {
    const since = task.answerUnreadSince ? Date.parse(task.answerUnreadSince) : Number.NaN;
    if (services.now().getTime() - since >= GIVE_UP_ANSWER_AFTER_MS) return { summary: "", unread: true };
    if (task.answerUnreadSince) throw error;
    return { later: await markAnswerUnread(services, task) };
  }
}

async function endFinished(services: Services, task: Task, conversation: AppConversation): Promise<Task> {
  const answer = await finalAnswer(services, task, conversation);
  if ("later" in answer) return answer.later;
  return endSucceeded(services, task, { ...answer, conversation });
}

async function endAgentFailure(
  services: Services,
  task: Task,
  conversation: AppConversation,
  status: "error" | "stuck",
): Promise<Task> {
  const detail = await readLastError(services.openhands, conversation.id).catch(() => undefined);
  const answer = await finalAnswer(services, task, conversation);
  if ("later" in answer) return answer.later;
  const summary = answer.summary;
  return endTask(services, task, {
    status: "failed",
    reason: { kind: "agent", status, resumed: task.resumed === true, ...(detail ? { detail } : {}) },
    summary,
    conversation,
  });
}
