import { claimInIsolate, releaseClaim } from "../isolate-claims";
import { markContinued, markResuming, withTrackingComment } from "../lifecycle/started";
import { OpenHandsError } from "../openhands/errors";
import { runMetrics } from "../openhands/metrics";
import type { AppConversation } from "../openhands/types";
import { continuePrompt } from "../prompt/build";
import type { Services } from "../services";
import type { LastConversation } from "../tasks/last-conversation";
import type { ContinueFailure, Task } from "../tasks/task";
import { startConversation } from "./start-conversation";

/** Outbound requests going on may need: the conversation read, the sandbox resumed, the message sent. */
export const CONTINUE_COST = 3;

/** The task set to go on with the thread's last conversation: its comment says so from the first. */
export function continuing(task: Task, last: LastConversation): Task {
  return { ...task, continues: { conversationId: last.conversationId, since: last.endedAt, summary: last.summary } };
}

/**
 * Goes on with the thread's earlier conversation (`task.continues`): the request is sent into it at
 * once when its sandbox runs; a paused one is resumed first, and a tick sends the request once it
 * is back. A conversation that is gone, or whose sandbox the service will not resume, cannot go on:
 * a new one starts instead, told what the earlier one concluded, and the tracking comment says so.
 */
export async function continueConversation(services: Services, task: Task): Promise<Task> {
  const [conversation] = await services.openhands.conversations([task.continues!.conversationId]);
  if (!conversation || conversation.sandbox_status === "MISSING" || conversation.sandbox_status === "ERROR")
    return startInstead(services, task, "gone");
  if (conversation.sandbox_status === "RUNNING") {
    const sent = await sendRequest(services, task, conversation);
    if (sent !== "not_running") return sent === "gone" ? startInstead(services, task, "gone") : sent;
  }
  if (conversation.sandbox_status !== "STARTING") {
    try {
      await services.openhands.resumeSandbox(conversation.sandbox_id ?? conversation.id);
    } catch (error) {
      // A runtime error answers 404 too (sandbox_router.py): either way the sandbox is not coming back.
      if (error instanceof OpenHandsError && error.status === 404) return startInstead(services, task, "not_back");
      throw error;
    }
  }
  return markResuming(services, task);
}

/**
 * The request into a conversation whose sandbox runs; "not_running" when the service says it does not
 * (409: paused or starting after all), "gone" when the conversation or its sandbox is.
 */
export async function sendRequest(
  services: Services,
  task: Task,
  conversation: AppConversation,
): Promise<Task | "not_running" | "gone"> {
  // Two overlapping ticks would both read the sandbox back and both send the request: one does. The claim
  // outlives the send, so a tick that read the task before it was marked sent does not send it again.
  const claim = `continue:${task.id}`;
  if (!claimInIsolate(claim, SEND_CLAIM_MS)) return "not_running";
  const since = task.continues!.since;
  const prompt = continuePrompt(task.request, { since, context: task.context, head: task.headSha });
  try {
    await services.openhands.sendMessage(conversation.id, prompt);
  } catch (error) {
    releaseClaim(claim);
    if (!(error instanceof OpenHandsError)) throw error;
    if (error.status === 409) return "not_running";
    if (error.status === 404 || error.status === 410) return "gone";
    throw error;
  }
  const spent = runMetrics(conversation);
  return markContinued(services, task, spent ? { costUsd: spent.costUsd, tokens: spent.tokens } : undefined);
}

/** Longer than a tick that read the task before it was marked sent takes to reach it. */
const SEND_CLAIM_MS = 2 * 60_000;

/**
 * The earlier conversation cannot go on: a new one of this task's own starts, told what the earlier one
 * concluded, and the tracking comment is rewritten with its link and why.
 */
export async function startInstead(services: Services, task: Task, why: ContinueFailure): Promise<Task> {
  const { continues, ...rest } = task;
  const fresh: Task = {
    ...rest,
    continueFailed: why,
    ...(continues ? { previous: { conversationId: continues.conversationId, summary: continues.summary } } : {}),
  };
  return startConversation(services, await withTrackingComment(services, fresh));
}
