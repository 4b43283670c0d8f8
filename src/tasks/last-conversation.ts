import { type TriggerRequest, threadKey } from "../trigger/request";
import { conversationIdOf, type Task } from "./task";

/**
 * The conversation a thread's last request ended with, kept under `thread:<owner>/<repo>#<number>`
 * for the repository's `continue_days`: longer than the task's own record (a day), so that a request
 * made days later still goes on with the conversation instead of starting over. One write per ended
 * run, the same key rewritten by each.
 */
export interface LastConversation {
  conversationId: string;
  /** The task it ended with. */
  taskId: string;
  endedAt: string;
  /** What the run concluded, for a new conversation's prompt when this one cannot go on. */
  summary: string;
}

const PREFIX = "thread:";
const DAY_SECONDS = 24 * 3600;

export async function lastConversation(
  kv: KVNamespace,
  request: Pick<TriggerRequest, "repository" | "number">,
): Promise<LastConversation | null> {
  return kv.get<LastConversation>(PREFIX + threadKey(request), "json");
}

/**
 * Remembers the conversation a task ended with, unless its repository never continues one, or it was a
 * review (a conversation with its own rules, which nothing else joins).
 */
export async function rememberConversation(kv: KVNamespace, task: Task, endedAt: Date): Promise<void> {
  const days = task.request.settings.continueDays;
  if (!(days > 0) || task.request.review || !task.outcome) return;
  const last: LastConversation = {
    conversationId: conversationIdOf(task),
    taskId: task.id,
    endedAt: endedAt.toISOString(),
    summary: task.outcome.summary,
  };
  await kv.put(PREFIX + threadKey(task.request), JSON.stringify(last), { expirationTtl: days * DAY_SECONDS });
}
