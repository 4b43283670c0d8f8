import { forwardTask } from "../lifecycle/queued";
import { OpenHandsError } from "../openhands/errors";
import { followUpPrompt } from "../prompt/build";
import type { Services } from "../services";
import { type LastConversation, lastConversation } from "../tasks/last-conversation";
import type { WaitReason } from "../tasks/reasons";
import type { TaskEntry } from "../tasks/store";
import { conversationIdOf, isActive, isConversationEnding, isPending, type Task } from "../tasks/task";
import { threadKey } from "../trigger/request";

export type FollowUp =
  | { kind: "new"; previous?: Task["previous"] }
  | { kind: "continue"; last: LastConversation }
  | { kind: "forwarded"; task: Task }
  | { kind: "wait"; reason: WaitReason };

/** The thread's other requests made before this one (by the index), oldest first. */
export function earlierOnThread(task: Task, entries: readonly TaskEntry[]): TaskEntry[] {
  const thread = threadKey(task.request);
  const created = Date.parse(task.createdAt);
  return entries.filter((e) => e.thread === thread && e.id !== task.id && e.createdMs <= created);
}

/**
 * Never two agents on one thread. A request on a thread whose task is still
 * going is sent to that conversation when its sandbox runs, and waits for it
 * to end otherwise. A request after an ended run goes on with its conversation
 * within the repository's `continue_days`; otherwise (or asked `new`) it starts
 * a new conversation that is told what the previous one concluded.
 */
export async function checkFollowUp(services: Services, task: Task, entries: readonly TaskEntry[]): Promise<FollowUp> {
  const others = earlierOnThread(task, entries);
  const activeEntry = others.find((e) => isPending(e.status));
  const active = activeEntry ? await services.store.get(activeEntry.id) : null;
  if (active && isPending(active.status)) {
    // "starting" too: a running agent's record says so until it ends (the poller does not
    // write the step). A sandbox that is not up yet answers 409 or 404, and the request waits.
    // Someone asked to stop it: nothing is sent that would set it going again.
    const live = isActive(active.status);
    // A review is a conversation of its own (its rules, its block): neither joins the other, it waits instead.
    if (live && active.stopRequestedBy === undefined && !task.request.review && !active.request.review) {
      try {
        await services.openhands.sendMessage(conversationIdOf(active), followUpPrompt(task.request));
        return { kind: "forwarded", task: await forwardTask(services, task, active) };
      } catch (error) {
        // 409: the sandbox is paused or still starting; the follow-up waits its turn instead.
        if (
          !(error instanceof OpenHandsError) ||
          (error.status !== 409 && error.status !== 410 && error.status !== 404)
        )
          throw error;
      }
    }
    return { kind: "wait", reason: { kind: "thread_busy" } };
  }
  const last = await continuable(services, task);
  if (last) return { kind: "continue", last };
  // The index may lag behind: a task it lists as pending may have ended since.
  const endedEntry = [...others].reverse().find((e) => isConversationEnding(e.status));
  const ended =
    active && isConversationEnding(active.status)
      ? active
      : endedEntry
        ? await services.store.get(endedEntry.id)
        : null;
  return ended?.outcome
    ? { kind: "new", previous: { conversationId: ended.id, summary: ended.outcome.summary } }
    : { kind: "new" };
}

const DAY_MS = 24 * 3600_000;

/** The thread's last conversation, when this request may go on with it. */
async function continuable(services: Services, task: Task): Promise<LastConversation | null> {
  const { request } = task;
  // A review is a conversation of its own; `new` asks for one.
  if (request.fresh || request.review || !(request.settings.continueDays > 0)) return null;
  const last = await lastConversation(services.kv, request);
  if (!last || last.taskId === task.id) return null;
  // The setting may have been lowered since the memory was written with its expiry.
  const age = Date.parse(task.createdAt) - Date.parse(last.endedAt);
  return age < request.settings.continueDays * DAY_MS ? last : null;
}
