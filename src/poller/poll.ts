import { log } from "../log";
import { OpenHandsError } from "../openhands/errors";
import { readFinalResponse, readLastError, readLastExecutionStatus } from "../openhands/outcome";
import type { AppConversation } from "../openhands/types";
import {
  failedComment,
  needsInputComment,
  queuedComment,
  succeededComment,
  timedOutComment,
  workingComment,
} from "../report/messages";
import { publishTrackingComment } from "../report/publish";
import type { Services } from "../start/services";
import { startConversation } from "../start/start-conversation";
import { ACTIVE_CLEAR_AFTER_MS } from "../tasks/store";
import { type FinalStatus, type Task, isPending, transition } from "../tasks/task";
import { decideRun, decideStart } from "./decide";

/**
 * A Worker invocation on the Free plan may make 50 subrequests. The batch reads
 * cost a few; each task that needs GitHub or extra OpenHands calls (a report, a
 * start) costs up to about five, so at most this many get that work per tick and
 * the rest, oldest first, wait for the next tick.
 */
export const MAX_HEAVY_TASKS_PER_TICK = 8;

export interface PollReport {
  listed: boolean;
  pending: number;
  /** Tasks whose status changed this tick. */
  advanced: number;
  /** Tasks that reached a final status this tick. */
  ended: number;
  /** Tasks left for a later tick because this one ran out of budget or was rate limited. */
  deferred: number;
}

export async function pollTasks(services: Services, options: { sweep?: boolean } = {}): Promise<PollReport> {
  const { store } = services;
  const report: PollReport = { listed: false, pending: 0, advanced: 0, ended: 0, deferred: 0 };
  const now = services.now().getTime();

  const lastActivity = await store.lastActivity();
  if (lastActivity === undefined && !options.sweep) return report;
  const entries = await store.pending();
  report.listed = true;
  if (entries.length === 0) {
    if (lastActivity !== undefined && now - lastActivity > ACTIVE_CLEAR_AFTER_MS) await store.clearActivity();
    return report;
  }

  const tasks = (await Promise.all(entries.map((entry) => store.get(entry.id)))).filter(
    (task): task is Task => task !== null && isPending(task.status),
  );
  report.pending = tasks.length;
  const tick = new Tick(report);

  try {
    for (const task of tasks) {
      if (task.status === "queued" && Date.parse(task.nextAttemptAt ?? task.createdAt) <= now) {
        await tick.heavy(task, () => startConversation(services, task, true));
      } else if (task.trackingCommentId === undefined) {
        await tick.heavy(task, () => postMissingTrackingComment(services, task));
      }
    }

    const starting = tasks.filter((task) => task.status === "starting" && task.startTaskId);
    const startTasks = starting.length ? await services.openhands.startTasks(starting.map((t) => t.startTaskId!)) : [];
    const following = tasks.filter((task) => task.status === "running" || task.status === "needs_input");
    for (const [i, task] of starting.entries()) {
      const decision = decideStart(task, startTasks[i] ?? null, now, services.config);
      if (decision.kind === "ready") {
        const next = transition(task, "running", { readyAt: services.now().toISOString() }, services.now());
        await store.save(next, task);
        report.advanced++;
        following.push(next);
      } else if (decision.kind === "fail") {
        await tick.heavy(task, () => endTask(services, task, "failed", { reason: decision.reason }));
      } else if (decision.kind === "timeout") {
        await tick.heavy(task, () => endTask(services, task, "timed_out", { phase: "start" }));
      }
    }

    const conversations = following.length ? await services.openhands.conversations(following.map((t) => t.id)) : [];
    for (const [i, task] of following.entries()) {
      const conversation = conversations[i] ?? null;
      const decision = decideRun(task, conversation, now, services.config);
      if (decision.kind === "wait") continue;
      await tick.heavy(task, () => followConversation(services, task, conversation!, decision));
    }
  } catch (error) {
    // A batch read failed (rate limit, outage, garbage): nothing is lost, the next tick asks again.
    if (!(error instanceof OpenHandsError)) throw error;
    log("warn", "poll.openhands_unavailable", { reason: error.message, status: error.status });
  }
  return report;
}

/** Counts the per-task work of one tick against the subrequest budget. */
class Tick {
  private used = 0;
  constructor(private readonly report: PollReport) {}

  async heavy(task: Task, work: () => Promise<Task | void>): Promise<void> {
    if (this.used >= MAX_HEAVY_TASKS_PER_TICK) {
      this.report.deferred++;
      return;
    }
    this.used++;
    try {
      const next = await work();
      if (next && next.status !== task.status) {
        this.report.advanced++;
        if (!isPending(next.status)) this.report.ended++;
      }
    } catch (error) {
      // One task's GitHub or OpenHands trouble must not hold up the others; it stays pending.
      if (error instanceof OpenHandsError && error.status === 429) throw error;
      log("warn", "poll.task_deferred", {
        task: task.id,
        status: (error as { status?: number }).status,
        reason: error instanceof Error ? error.name : "unknown",
      });
      this.report.deferred++;
    }
  }
}

type Decision = Exclude<ReturnType<typeof decideRun>, { kind: "wait" }>;

async function followConversation(
  services: Services,
  task: Task,
  conversation: AppConversation,
  decision: Decision,
): Promise<Task> {
  const { openhands } = services;
  switch (decision.kind) {
    case "finished":
      return endTask(services, task, "succeeded", { summary: await readFinalResponse(openhands, conversation) });
    case "agent_failed":
      return endTask(services, task, "failed", {
        reason: await describeFailure(services, conversation.id, decision.reason),
        summary: await readFinalResponse(openhands, conversation),
      });
    case "fail":
      return endTask(services, task, "failed", { reason: decision.reason });
    case "timeout":
      return endTask(services, task, "timed_out", { phase: "run" });
    case "needs_input":
      if (task.status === "needs_input") return task;
      return update(services, task, "needs_input", {}, needsInputComment);
    case "back_to_work":
      return update(services, task, "running", {}, workingComment);
    case "from_events": {
      // The sandbox no longer reports a status: the persisted events still tell how the run ended.
      const last = await readLastExecutionStatus(openhands, conversation.id);
      if (last === "finished") {
        return endTask(services, task, "succeeded", { summary: await readFinalResponse(openhands, conversation) });
      }
      if (last === "error" || last === "stuck") {
        const reason = last === "error" ? "the agent run ended with an error" : "the agent got stuck in a loop";
        return endTask(services, task, "failed", {
          reason: await describeFailure(services, conversation.id, reason),
          summary: await readFinalResponse(openhands, conversation),
        });
      }
      if (decision.mayResume && !task.resumed) {
        // OpenHands pauses the oldest sandboxes when too many run; bring ours back once.
        await openhands.resumeSandbox(conversation.sandbox_id ?? conversation.id);
        const next = transition(task, task.status, { resumed: true }, services.now());
        await services.store.save(next, task);
        log("info", "task.sandbox_resumed", { task: task.id });
        return next;
      }
      return endTask(services, task, "failed", {
        reason: decision.mayResume
          ? "the OpenHands sandbox was paused before the agent finished, and did not come back"
          : "the OpenHands sandbox is gone before the agent finished",
      });
    }
  }
}

async function describeFailure(services: Services, conversationId: string, reason: string): Promise<string> {
  const detail = await readLastError(services.openhands, conversationId).catch(() => undefined);
  return detail ? `${reason} (${detail})` : reason;
}

type View = { task: Task; link: string };

async function update(
  services: Services,
  task: Task,
  status: "running" | "needs_input",
  changes: Partial<Task>,
  render: (view: View) => string,
): Promise<Task> {
  const next = transition(task, status, changes, services.now());
  const link = services.openhands.conversationLink(task.id);
  next.trackingCommentId = await publishTrackingComment(services.github(task.installationId), next, render({ task: next, link }));
  await services.store.save(next, task);
  log("info", "task.status", { task: task.id, status });
  return next;
}

/**
 * The final transition: the comment first, the record second. If the save is
 * lost, the next tick edits the same comment again, so a user never sees two results.
 */
export async function endTask(
  services: Services,
  task: Task,
  status: FinalStatus,
  details: { summary?: string; reason?: string; phase?: "start" | "run" },
): Promise<Task> {
  const now = services.now();
  const link = services.openhands.conversationLink(task.id);
  const durationMs = now.getTime() - Date.parse(task.createdAt);
  const view = { task, link, durationMs };
  const body =
    status === "succeeded"
      ? succeededComment({ ...view, summary: details.summary ?? "" })
      : status === "timed_out"
        ? timedOutComment({ ...view, phase: details.phase ?? "run" })
        : failedComment({ ...view, reason: details.reason ?? "unknown error", summary: details.summary });
  const trackingCommentId = await publishTrackingComment(services.github(task.installationId), task, body);
  const outcome = { summary: status === "succeeded" ? (details.summary ?? "") : (details.reason ?? status), finishedAt: now.toISOString() };
  const next = transition(task, status, { trackingCommentId, outcome }, now);
  await services.store.save(next, task);
  log("info", "task.ended", { task: task.id, status, durationMs });
  return next;
}

async function postMissingTrackingComment(services: Services, task: Task): Promise<Task> {
  const link = services.openhands.conversationLink(task.id);
  const body =
    task.status === "queued" && task.lastError
      ? queuedComment({ task, link, reason: task.lastError, retryAt: task.nextAttemptAt ? new Date(task.nextAttemptAt) : undefined })
      : workingComment({ task, link });
  const trackingCommentId = await publishTrackingComment(services.github(task.installationId), task, body);
  const next = { ...task, trackingCommentId };
  await services.store.save(next, task);
  return next;
}
