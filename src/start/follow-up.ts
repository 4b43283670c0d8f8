import { log } from "../log";
import { OpenHandsError } from "../openhands/errors";
import { followUpPrompt } from "../prompt/build";
import { currentComment, followUpNote } from "../report/messages";
import { publishTrackingComment } from "../report/publish";
import type { TaskEntry } from "../tasks/store";
import { type Task, isPending, transition } from "../tasks/task";
import { threadKey } from "../trigger/request";
import type { Services } from "../services";
import { httpStatus } from "../http-status";

export type FollowUp =
  | { kind: "new"; previous?: Task["previous"] }
  | { kind: "forwarded"; task: Task }
  | { kind: "wait"; reason: string };

const ENDED = ["succeeded", "failed", "timed_out", "stopped"];

/**
 * Never two agents on one thread. A request on a thread whose task is still
 * going is sent to that conversation when its sandbox runs, and waits for it
 * to end otherwise. A request after an ended task starts a new conversation
 * that is told what the previous one concluded.
 */
export async function checkFollowUp(services: Services, task: Task, entries: readonly TaskEntry[]): Promise<FollowUp> {
  const key = threadKey(task.request);
  const others = entries.filter((e) => e.thread === key && e.id !== task.id && e.createdMs <= Date.parse(task.createdAt));
  const activeEntry = others.find((e) => isPending(e.status));
  const active = activeEntry ? await services.store.get(activeEntry.id) : null;
  if (active && isPending(active.status)) {
    // "starting" too: a running agent's record says so until it ends (the poller does not
    // write the step). A sandbox that is not up yet answers 409 or 404, and the request waits.
    if (active.status === "starting" || active.status === "running" || active.status === "needs_input") {
      try {
        await services.openhands.sendMessage(active.id, followUpPrompt(task.request));
        return { kind: "forwarded", task: await recordForwarded(services, task, active) };
      } catch (error) {
        // 409: the sandbox is paused or still starting; the follow-up waits its turn instead.
        if (!(error instanceof OpenHandsError) || (error.status !== 409 && error.status !== 410 && error.status !== 404)) throw error;
      }
    }
    return { kind: "wait", reason: "waiting for the request already running on this thread to finish" };
  }
  // The index may lag behind: a task it lists as pending may have ended since.
  const endedEntry = [...others].reverse().find((e) => ENDED.includes(e.status));
  const ended = active && ENDED.includes(active.status) ? active : endedEntry ? await services.store.get(endedEntry.id) : null;
  return ended?.outcome
    ? { kind: "new", previous: { conversationId: ended.id, summary: ended.outcome.summary } }
    : { kind: "new" };
}

async function recordForwarded(services: Services, task: Task, active: Task): Promise<Task> {
  const now = services.now();
  const link = services.openhands.conversationLink(active.id);
  // Say so where the thread already looks: the running task's own comment (no KV write to it).
  const note = followUpNote({ task: active, link, from: task.request.requester, url: task.request.commentUrl });
  await publishTrackingComment(services, active, currentComment({ task: active, link }) + note).catch((error: unknown) =>
    log("warn", "github.follow_up_note_failed", { task: active.id, status: httpStatus(error) }),
  );
  const next = transition(
    task,
    "forwarded",
    { forwardedTo: active.id, outcome: { summary: `sent to conversation ${active.id}`, finishedAt: now.toISOString() } },
    now,
  );
  await services.store.save(next, task);
  log("info", "task.forwarded", { task: task.id, to: active.id });
  return next;
}
