import { gitHubRetryAt } from "../github/rate-limit";
import { log } from "../log";
import { OpenHandsError } from "../openhands/errors";
import { readFinalResponse, readLastError, readLastExecutionStatus } from "../openhands/outcome";
import type { AppConversation, StartTask } from "../openhands/types";
import { CONTINUE_AFTER_RESUME_PROMPT } from "../prompt/build";
import { failedComment, needsInputComment, succeededComment, timedOutComment, workingComment } from "../report/messages";
import { publishTrackingComment } from "../report/publish";
import { stopTask } from "../commands/stop-task";
import { ADVANCE_COST, acknowledge, advanceQueued } from "../start/advance-queued";
import type { Services } from "../services";
import { START_TASK_SEARCH_PAGES } from "../openhands/client";
import { followOtherStart } from "../start/start-conversation";
import { type ReceivedEntry, type TaskEntry, pendingEntries } from "../tasks/store";
import { confirmReceived } from "../start/confirm-received";
import { type FinalStatus, type Task, type TaskStatus, isPending, transition } from "../tasks/task";
import { type RunDecision, decideRun, decideStart } from "./decide";
import { httpStatus } from "../http-status";

/**
 * Outbound requests a step may need at most, besides the installation token
 * (counted once per installation per tick). A report: the final answer
 * (agent-server, then up to three pages of events), the error event, an owed
 * reaction, the edit.
 */
const REPORT_COST = 7;
const COMMENT_COST = 2;
/** Deciding a received event: the repository's config file, then the organisation's. */
const CONFIRM_COST = 2;
const WEBHOOK_OWNS_RECEIVED_MS = 60_000;
/** Kept free for Octokit's one quick retry of a failed GitHub call. */
const RETRY_RESERVE = 4;

export interface PollReport {
  listed: boolean;
  pending: number;
  /** Tasks whose status changed this tick. */
  advanced: number;
  /** Tasks that reached a final status this tick. */
  ended: number;
  /** Tasks whose work was left for a later tick: out of budget, rate limited, or upstream trouble. */
  deferred: number;
  /** Outbound requests made by this tick. */
  subrequests: number;
}

interface Work {
  id: string;
  installationId: number;
  createdMs: number;
  status: string;
  cost: number;
  /** The status it ends the step in. */
  run: () => Promise<string>;
}

function taskWork(task: Task, cost: number, run: () => Promise<Task>): Work {
  return {
    id: task.id,
    installationId: task.request.installationId,
    createdMs: Date.parse(task.createdAt),
    status: task.status,
    cost,
    run: async () => (await run()).status,
  };
}

/**
 * Events the webhook recorded but did not get to decide (its `waitUntil` was cut
 * short, or GitHub would not give the repository's config). The webhook owns a
 * fresh one for a minute.
 */
function receivedWork(services: Services, received: readonly ReceivedEntry[], entries: TaskEntry[]): Work[] {
  const now = services.now().getTime();
  return received
    .filter((entry) => now - entry.receivedMs > WEBHOOK_OWNS_RECEIVED_MS)
    .map((entry) => ({
      id: entry.id,
      installationId: entry.installationId,
      createdMs: entry.receivedMs,
      status: "received",
      cost: CONFIRM_COST + ADVANCE_COST,
      run: async () => {
        const event = await services.store.getReceived(entry.id);
        if (!event) return "gone";
        const outcome = await confirmReceived(services, event, entries);
        return outcome === "waiting" ? "received" : outcome;
      },
    }));
}

export async function pollTasks(services: Services, options: { sweep?: boolean } = {}): Promise<PollReport> {
  const { store, budget } = services;
  const report: PollReport = { listed: false, pending: 0, advanced: 0, ended: 0, deferred: 0, subrequests: 0 };
  const now = services.now().getTime();

  const activeUntil = await store.activeUntil();
  if (activeUntil === undefined && !options.sweep) return report;
  const { tasks: entries, received } = await store.index();
  report.listed = true;
  const pending = pendingEntries(entries);
  // Nothing pending: the marker runs out on its own, no delete needed.
  if (pending.length === 0 && received.length === 0) return report;
  await store.markActive(now, activeUntil);

  const tasks = (await Promise.all(pending.map((entry) => store.get(entry.id)))).filter(
    (task): task is Task => task !== null && isPending(task.status),
  );
  report.pending = tasks.length;

  try {
    const work = [...receivedWork(services, received, entries), ...(await planWork(services, tasks, entries, report))];
    // Oldest first: when one tick cannot serve everyone, the longest-waiting go first.
    work.sort((a, b) => a.createdMs - b.createdMs);
    const authenticated = new Set<number>();
    // Installations GitHub rate-limited this tick: their other work waits for a later tick.
    const limited = new Set<number>();
    for (const item of work) {
      const installation = item.installationId;
      const tokenCost = authenticated.has(installation) ? 0 : 1;
      if (limited.has(installation) || !budget.canAfford(item.cost + tokenCost + RETRY_RESERVE)) {
        report.deferred++;
        continue;
      }
      authenticated.add(installation);
      if ((await runWork(services, item, report)) === "github_rate_limited") limited.add(installation);
    }
  } catch (error) {
    // A batch read failed or OpenHands rate-limited us: nothing is lost, the next tick asks again.
    if (!(error instanceof OpenHandsError)) throw error;
    log("warn", "poll.openhands_unavailable", { reason: error.message, status: error.status });
  }
  report.subrequests = budget.used;
  return report;
}

/** Reads every status in two batched calls and turns each pending task into the work it needs. */
async function planWork(services: Services, tasks: Task[], entries: TaskEntry[], report: PollReport): Promise<Work[]> {
  const { openhands, store, config } = services;
  const now = services.now().getTime();
  const work: Work[] = [];
  // Tasks this tick starts count against the cap at once.
  const liveEntries = entries.map((entry) => ({ ...entry }));

  for (const task of tasks) {
    if (task.status === "queued" && Date.parse(task.nextAttemptAt ?? task.createdAt) <= now) {
      work.push(
        taskWork(task, ADVANCE_COST, async () => {
          const next = await advanceQueued(services, task, liveEntries);
          const entry = liveEntries.find((e) => e.id === task.id);
          if (entry) Object.assign(entry, { status: next.status, startedMs: next.startedAt ? Date.parse(next.startedAt) : undefined });
          return next;
        }),
      );
    } else if (task.status !== "queued" && task.trackingCommentId === undefined) {
      work.push(taskWork(task, COMMENT_COST, () => postMissingTrackingComment(services, task)));
    } else if (task.status !== "queued" && task.reacted === false) {
      work.push(taskWork(task, 1, () => addOwedReaction(services, task)));
    }
  }

  const starting = tasks.filter((task) => task.status === "starting" && task.startTaskId);
  const following = tasks.filter((task) => task.status === "running" || task.status === "needs_input");
  // The conversation is the truth, whatever its start task says: a lost answer or a
  // duplicate start (never refused, stuck behind the first) must not hide a running agent.
  // Read in the same batch as the running ones, so it costs no extra request.
  const conversations = following.length + starting.length ? await openhands.conversations([...following, ...starting].map((t) => t.id)) : [];
  const conversationOf = new Map([...following, ...starting].map((task, i) => [task.id, conversations[i] ?? null]));
  // Only a start whose conversation is not there yet needs its start task read.
  const unseen = starting.filter((task) => !conversationOf.get(task.id));
  const startTasks: (StartTask | null)[] = unseen.length ? await openhands.startTasks(unseen.map((t) => t.startTaskId!)) : [];
  const startTaskOf = new Map(unseen.map((task, i) => [task.id, startTasks[i] ?? null]));
  // A start that became READY since: its conversation is there now, and is followed this tick.
  const justReady = unseen.filter((task) => startTaskOf.get(task.id)?.status === "READY");
  if (justReady.length) {
    const fresh = await openhands.conversations(justReady.map((t) => t.id));
    justReady.forEach((task, i) => conversationOf.set(task.id, fresh[i] ?? null));
  }
  for (const task of starting) {
    const conversation = conversationOf.get(task.id) ?? null;
    const decision = decideStart(task, startTaskOf.get(task.id) ?? null, conversation, now, config);
    if (decision.kind === "ready" && task.stopRequestedBy) {
      const by = task.stopRequestedBy;
      work.push(taskWork(task, REPORT_COST, async () => (await stopTask(services, task, by))));
    } else if (decision.kind === "ready") {
      // Running, but not written down: every tick reads this conversation anyway, so the
      // record stays "starting" and a task costs one KV write less (the Free plan allows
      // 1,000 a day). The run's clock starts when the conversation was created.
      const readyAt = conversation?.created_at ?? task.startedAt ?? task.createdAt;
      const next = transition(task, "running", { readyAt }, services.now());
      // READY with no conversation: it was read before the start task this tick, and shows
      // up next tick. Still missing when the run would have timed out, it is gone.
      if (conversation || now - Date.parse(task.startedAt ?? task.createdAt) > config.runTimeoutMs) following.push(next);
    } else if (decision.kind === "start_failed") {
      // Another start of ours may still be on its way (an earlier attempt whose answer was lost).
      work.push(
        taskWork(task, REPORT_COST + START_TASK_SEARCH_PAGES, async () =>
          (await followOtherStart(services, task)) ?? endTask(services, task, "failed", { reason: decision.reason }),
        ),
      );
    } else if (decision.kind === "fail") {
      work.push(taskWork(task, REPORT_COST, () => endTask(services, task, "failed", { reason: decision.reason })));
    } else if (decision.kind === "timeout") {
      work.push(taskWork(task, REPORT_COST, () => endTask(services, task, "timed_out", { phase: "start" })));
    }
  }

  for (const task of following) {
    const conversation = conversationOf.get(task.id) ?? null;
    const decision = decideRun(task, conversation, now, config);
    if (decision.kind === "wait") continue;
    if (decision.kind === "needs_input" && task.status === "needs_input") continue;
    work.push(taskWork(task, REPORT_COST, () => followConversation(services, task, conversation!, decision)));
  }
  return work;
}

async function runWork(services: Services, item: Work, report: PollReport): Promise<"done" | "deferred" | "github_rate_limited"> {
  try {
    const status = await item.run();
    if (status !== item.status) {
      report.advanced++;
      if (!isPending(status as TaskStatus)) report.ended++;
    }
    return "done";
  } catch (error) {
    // One task's trouble must not hold up the others; it stays as it was and is retried next tick.
    if (error instanceof OpenHandsError && error.status === 429) throw error;
    log("warn", "poll.task_deferred", {
      task: item.id,
      status: httpStatus(error),
      reason: error instanceof Error ? error.name : "unknown",
    });
    report.deferred++;
    return gitHubRetryAt(error, services.now().getTime()) === undefined ? "deferred" : "github_rate_limited";
  }
}

async function followConversation(
  services: Services,
  task: Task,
  conversation: AppConversation,
  decision: Exclude<RunDecision, { kind: "wait" }>,
): Promise<Task> {
  const { openhands } = services;
  switch (decision.kind) {
    case "finished":
      return endTask(services, task, "succeeded", { summary: await readFinalResponse(openhands, conversation), conversation });
    case "agent_failed":
      return endAgentFailure(services, task, conversation, decision.reason);
    case "fail":
      return endTask(services, task, "failed", { reason: decision.reason });
    case "timeout":
      return endTask(services, task, "timed_out", { phase: "run" });
    case "needs_input":
      return update(services, task, "needs_input", needsInputComment);
    case "back_to_work":
      return update(services, task, "running", workingComment);
    case "continue": {
      // 409 while the sandbox is not RUNNING after all: the next tick tries again.
      await openhands.sendMessage(task.id, CONTINUE_AFTER_RESUME_PROMPT);
      const next = transition(task, task.status, { continued: true }, services.now());
      await services.store.save(next, task);
      log("info", "task.continued_after_resume", { task: task.id });
      return next;
    }
    case "from_events": {
      // The sandbox no longer reports a status: the persisted events still tell how the run ended.
      const last = await readLastExecutionStatus(openhands, conversation.id);
      if (last === "finished") {
        return endTask(services, task, "succeeded", { summary: await readFinalResponse(openhands, conversation), conversation });
      }
      if (last === "error" || last === "stuck") {
        return endAgentFailure(services, task, conversation, last === "error" ? AGENT_ERROR : AGENT_STUCK);
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

const AGENT_ERROR = "the agent run ended with an error";
const AGENT_STUCK = "the agent got stuck in a loop";

async function endAgentFailure(services: Services, task: Task, conversation: AppConversation, reason: string): Promise<Task> {
  const detail = await readLastError(services.openhands, conversation.id).catch(() => undefined);
  if (task.resumed) reason = `${reason}, after OpenHands paused its sandbox and this App resumed it`;
  return endTask(services, task, "failed", {
    reason: detail ? `${reason} (${detail})` : reason,
    summary: await readFinalResponse(services.openhands, conversation),
    conversation,
  });
}

type View = { task: Task; link: string };

async function update(services: Services, task: Task, status: "running" | "needs_input", render: (view: View) => string): Promise<Task> {
  const next = transition(task, status, {}, services.now());
  const link = services.openhands.conversationLink(task.id);
  next.trackingCommentId = await publishTrackingComment(services, next, render({ task: next, link }));
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
  status: Exclude<FinalStatus, "rejected">,
  details: { summary?: string; reason?: string; phase?: "start" | "run"; conversation?: AppConversation },
): Promise<Task> {
  const now = services.now();
  const link = services.openhands.conversationLink(task.id);
  const durationMs = now.getTime() - Date.parse(task.createdAt);
  // Last chance for an owed 👀, so the comment that asked does not look ignored.
  const reacted = task.reacted === false ? await acknowledge(services, task) : task.reacted;
  task = { ...task, reacted };
  const view = { task, link, durationMs };
  const body =
    status === "succeeded"
      ? succeededComment({ ...view, summary: details.summary ?? "" })
      : status === "timed_out"
        ? timedOutComment({ ...view, phase: details.phase ?? "run" })
        : failedComment({ ...view, reason: details.reason ?? "unknown error", summary: details.summary });
  // The sandbox's session key is as secret as ours: the agent could have echoed it.
  const trackingCommentId = await publishTrackingComment(services, task, body, [details.conversation?.session_api_key]);
  const summary = status === "succeeded" ? (details.summary ?? "") : (details.reason ?? status);
  const outcome = { summary: services.redact(summary, [details.conversation?.session_api_key]), finishedAt: now.toISOString() };
  const next = transition(task, status, { trackingCommentId, outcome }, now);
  await services.store.save(next, task);
  log("info", "task.ended", { task: task.id, status, durationMs });
  return next;
}

async function addOwedReaction(services: Services, task: Task): Promise<Task> {
  if (!(await acknowledge(services, task))) return task;
  const next = { ...task, reacted: true };
  await services.store.save(next, task);
  return next;
}

async function postMissingTrackingComment(services: Services, task: Task): Promise<Task> {
  const link = services.openhands.conversationLink(task.id);
  const body = workingComment({ task, link });
  const trackingCommentId = await publishTrackingComment(services, task, body);
  const next = { ...task, trackingCommentId };
  await services.store.save(next, task);
  return next;
}

