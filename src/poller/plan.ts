import { stopTask } from "../commands/stop-task";
import { ThreadGoneError } from "../github/gone";
import { endForGoneThread, endTask } from "../lifecycle/ended";
import { addOwedReaction, clearGoneReads, seenRunning, showActivity } from "../lifecycle/running";
import { attachTrackingComment } from "../lifecycle/started";
import { SUCCEEDED_COST } from "../lifecycle/succeeded";
import { readAgentActivity } from "../openhands/activity";
import { START_TASK_SEARCH_PAGES } from "../openhands/client";
import type { AppConversation, StartTask } from "../openhands/types";
import type { Services } from "../services";
import { ADVANCE_COST, advanceQueued } from "../start/advance-queued";
import { sendRequest, startInstead } from "../start/continue-conversation";
import { decideReceived } from "../start/decide-received";
import { refreshAgentToken } from "../start/git-identity";
import { adoptOtherStart } from "../start/start-conversation";
import { HEAD_CHECK_COST, supersedeIfMoved } from "../start/supersede";
import { WEBHOOK_OWNS_RECEIVED_MS } from "../tasks/received";
import type { ReceivedEntry, TaskEntry } from "../tasks/store";
import { conversationIdOf, isPending, runStartedMs, type Task } from "../tasks/task";
import { actOnRun } from "./act";
import { activityDue, decideResuming, decideRun, decideStart, tokenRefreshDue } from "./decide";

/**
 * Outbound requests a step may need at most, besides the installation token
 * (counted once per installation per tick). A report: the final answer
 * (agent-server, then up to three pages of events), the error event, the pull
 * requests it produced, an owed reaction, the edit.
 */
const REPORT_COST = 7 + SUCCEEDED_COST;
const COMMENT_COST = 2;
/** Deciding a received event: the repository's config file, then the organisation's. */
const CONFIRM_COST = 2;

/** What a step did to its item: the tick's report counts the moves and the endings. */
export type StepResult = "unchanged" | "advanced" | "ended";

/** One step of a tick, priced before it runs so the tick stays within its subrequest budget. */
export interface Work {
  id: string;
  installationId: number;
  createdMs: number;
  cost: number;
  run: () => Promise<StepResult>;
  /** Nice to have (what a running agent does now): done after everything else, when the budget allows. */
  optional?: boolean;
}

/** A fresh token for an agent working as the App: minted (GitHub), handed to its agent-server (OpenHands). */
const TOKEN_REFRESH_COST = 2;

/**
 * Looking at a running agent: its latest action (OpenHands), its tracking comment, the edit (GitHub);
 * when the thread turns out gone, the issue read or the new comment tried, and the pause (OpenHands).
 */
const ACTIVITY_COST = 5;

function activityWork(services: Services, task: Task, now: number, gone: EndIfGone): Work {
  const elapsedMs = now - runStartedMs(task);
  const work = taskWork(
    task,
    ACTIVITY_COST,
    async () => {
      const activity = await readAgentActivity(services.openhands, conversationIdOf(task), task.request.repo);
      return showActivity(services, task, { elapsedMs, activity });
    },
    gone,
  );
  return { ...work, optional: true };
}

/** What a step needs to end its task when the thread is gone: the conversations this tick read. */
interface EndIfGone {
  services: Services;
  conversationOf: ReadonlyMap<string, AppConversation | null>;
}

/**
 * A step of one task. Whatever it posts may find the thread gone for good (report/publish.ts
 * ThreadGoneError): the task then ends there, its running conversation (as this tick read it)
 * paused, instead of trying again on every tick.
 */
function taskWork(task: Task, cost: number, run: () => Promise<Task>, gone?: EndIfGone): Work {
  return {
    id: task.id,
    installationId: task.request.installationId,
    createdMs: Date.parse(task.createdAt),
    cost,
    run: async () => {
      try {
        return resultOf(task, await run());
      } catch (error) {
        if (!gone || !(error instanceof ThreadGoneError)) throw error;
        return resultOf(task, await endForGoneThread(gone.services, task, error, gone.conversationOf.get(task.id)));
      }
    },
  };
}

function resultOf(before: Task, after: Task): StepResult {
  if (after.status === before.status) return "unchanged";
  return isPending(after.status) ? "advanced" : "ended";
}

/**
 * Events the webhook recorded but did not get to decide (its `waitUntil` was cut
 * short, or GitHub would not give the repository's config). The webhook owns a
 * fresh one for a minute.
 */
export function receivedWork(services: Services, received: readonly ReceivedEntry[], entries: TaskEntry[]): Work[] {
  const now = services.now().getTime();
  return received
    .filter((entry) => now - entry.receivedMs > WEBHOOK_OWNS_RECEIVED_MS)
    .map((entry) => ({
      id: entry.id,
      installationId: entry.installationId,
      createdMs: entry.receivedMs,
      cost: CONFIRM_COST + ADVANCE_COST,
      run: async (): Promise<StepResult> => {
        const event = await services.store.getReceived(entry.id);
        if (!event) return "ended";
        // Decided either way (a task recorded, a command answered, nothing to do): the event itself is done.
        return (await decideReceived(services, event, entries)) === "waiting" ? "unchanged" : "ended";
      },
    }));
}

/** Reads every status in two batched calls and turns each pending task into the work it needs. */
export async function planWork(services: Services, tasks: Task[], entries: TaskEntry[]): Promise<Work[]> {
  const now = services.now().getTime();
  // Tasks this tick starts count against the cap at once.
  const liveEntries = entries.map((entry) => ({ ...entry }));
  // Filled by readRuns, before any work runs.
  const conversationOf = new Map<string, AppConversation | null>();
  const gone: EndIfGone = { services, conversationOf };
  const work = tasks.flatMap((task) => upkeepWork(services, task, now, liveEntries, gone));

  const starting = tasks.filter((task) => task.status === "starting" && task.startTaskId);
  const following = tasks.filter((task) => task.status === "running" || task.status === "needs_input");
  const resuming = tasks.filter((task) => task.status === "starting" && task.continues && !task.continues.sentAt);
  const startTaskOf = await readRuns(services, starting, [...following, ...resuming], conversationOf);
  for (const task of resuming) {
    const step = resumingWork(services, task, conversationOf.get(task.id) ?? null, now, gone);
    if (step) work.push(step);
  }
  for (const task of starting) {
    const step = startingWork(services, task, startTaskOf.get(task.id) ?? null, now, gone);
    if (step === "follow") {
      // The run's clock starts when OpenHands accepted the start (its start task's creation, as
      // markStarted recorded it): a time that stays put while the record says "starting", unlike
      // the conversation's `created_at`, which moves with each agent-server report.
      // READY with no conversation even on the read made after the start task: followed as a run
      // that reads as gone, which ends it only when that lasts (three reads over five minutes),
      // instead of waiting out the run deadline for a conversation deleted meanwhile.
      following.push(seenRunning(task, task.startedAt ?? services.now().toISOString(), services.now()));
    } else if (step) work.push(step);
  }
  for (const task of following) work.push(...followingWork(services, task, now, gone));
  return work;
}

/** What any pending task may owe before its run is looked at: its start when due, its tracking comment, its 👀. */
function upkeepWork(services: Services, task: Task, now: number, liveEntries: TaskEntry[], gone: EndIfGone): Work[] {
  if (task.status === "queued") {
    if (Date.parse(task.nextAttemptAt ?? task.createdAt) > now) return [];
    const work = taskWork(task, ADVANCE_COST, async () => {
      const next = await advanceQueued(services, task, liveEntries);
      const entry = liveEntries.find((e) => e.id === task.id);
      if (entry)
        Object.assign(entry, {
          status: next.status,
          startedMs: next.startedAt ? Date.parse(next.startedAt) : undefined,
        });
      return next;
    });
    return [work];
  }
  if (task.trackingCommentId === undefined)
    return [taskWork(task, COMMENT_COST, () => attachTrackingComment(services, task), gone)];
  if (task.reacted === false) return [taskWork(task, 1, () => addOwedReaction(services, task))];
  return [];
}

/**
 * Reads the conversations of the running and starting tasks into `conversationOf`, and the start
 * tasks of the starts whose conversation is not there yet, which it returns.
 */
async function readRuns(
  { openhands }: Services,
  starting: Task[],
  following: Task[],
  conversationOf: Map<string, AppConversation | null>,
): Promise<Map<string, StartTask | null>> {
  // The conversation is the truth, whatever its start task says: a lost answer or a
  // duplicate start (never refused, stuck behind the first) must not hide a running agent.
  // Read in the same batch as the running ones, so it costs no extra request.
  const runs = [...following, ...starting];
  const conversations = runs.length ? await openhands.conversations(runs.map(conversationIdOf)) : [];
  for (const [i, task] of runs.entries()) conversationOf.set(task.id, conversations[i] ?? null);
  // Only a start whose conversation is not there yet needs its start task read.
  const unseen = starting.filter((task) => !conversationOf.get(task.id));
  const startTasks = unseen.length ? await openhands.startTasks(unseen.map((t) => t.startTaskId!)) : [];
  const startTaskOf = new Map(unseen.map((task, i) => [task.id, startTasks[i] ?? null]));
  // A start that became READY since: its conversation is there now, and is followed this tick.
  const justReady = unseen.filter((task) => startTaskOf.get(task.id)?.status === "READY");
  if (justReady.length) {
    const fresh = await openhands.conversations(justReady.map(conversationIdOf));
    for (const [i, task] of justReady.entries()) conversationOf.set(task.id, fresh[i] ?? null);
  }
  return startTaskOf;
}

/** The step a starting task needs, or "follow" when its run is there and is followed this tick. */
function startingWork(
  services: Services,
  task: Task,
  startTask: StartTask | null,
  now: number,
  gone: EndIfGone,
): Work | "follow" | undefined {
  const conversation = gone.conversationOf.get(task.id) ?? null;
  const decision = decideStart(task, startTask, conversation, now, services.config);
  switch (decision.kind) {
    case "ready": {
      const by = task.stopRequestedBy;
      return by ? taskWork(task, REPORT_COST, () => stopTask(services, task, by), gone) : "follow";
    }
    case "start_failed":
      // Another start of ours may still be on its way (an earlier attempt whose answer was lost).
      return taskWork(
        task,
        REPORT_COST + START_TASK_SEARCH_PAGES,
        async () =>
          (await adoptOtherStart(services, task)) ??
          endTask(services, task, { status: "failed", reason: { kind: "start_errored", detail: decision.detail } }),
      );
    case "fail":
      return taskWork(task, REPORT_COST, () => endTask(services, task, { status: "failed", reason: decision.reason }));
    case "timeout":
      return taskWork(task, REPORT_COST, () => endTask(services, task, { status: "timed_out", phase: "start" }));
    default:
      return undefined;
  }
}

/** Going on with the thread's earlier conversation once its sandbox is back, or a new one when it is not. */
function resumingWork(
  services: Services,
  task: Task,
  conversation: AppConversation | null,
  now: number,
  gone: EndIfGone,
): Work | undefined {
  const by = task.stopRequestedBy;
  if (by) return taskWork(task, REPORT_COST, () => stopTask(services, task, by), gone);
  const decision = decideResuming(task, conversation, now, services.config);
  if (decision.kind === "wait") return undefined;
  return taskWork(
    task,
    ADVANCE_COST,
    async () => {
      if (decision.kind === "start_instead") return startInstead(services, task, decision.why);
      const sent = await sendRequest(services, task, conversation!);
      if (sent === "gone") return startInstead(services, task, "gone");
      return sent === "not_running" ? task : sent;
    },
    gone,
  );
}

/** The steps a running task needs: a fresh token, forgetting gone reads, a look at its activity, or its ending. */
function followingWork(services: Services, task: Task, now: number, gone: EndIfGone): Work[] {
  // A stop recorded whose pause never came (its request was cut short): finish it, never follow the run.
  const stopBy = task.stopRequestedBy;
  if (stopBy) return [taskWork(task, REPORT_COST, () => stopTask(services, task, stopBy), gone)];
  const conversation = gone.conversationOf.get(task.id) ?? null;
  const decision = decideRun(task, conversation, now, services.config);
  const work: Work[] = [];
  const goesOn = decision.kind === "wait" || decision.kind === "needs_input";
  if (services.config.gitIdentity === "app" && goesOn && conversation?.conversation_url && tokenRefreshDue(task, now))
    work.push(taskWork(task, TOKEN_REFRESH_COST, () => refreshAgentToken(services, task, conversation)));
  const stillWaits = decision.kind === "needs_input" && task.status === "needs_input";
  // The run reads as there again after reads that showed it gone: they no longer count.
  if (task.goneReads && (decision.kind === "wait" || stillWaits))
    work.push(taskWork(task, 0, () => clearGoneReads(services, task)));
  if (decision.kind === "wait") {
    // An automatic review of a head the pull request has left is not worth finishing.
    if (task.request.review?.automatic && task.headSha)
      work.push(taskWork(task, HEAD_CHECK_COST, () => supersedeIfMoved(services, task), gone));
    if (activityDue(task, now)) work.push(activityWork(services, task, now, gone));
  } else if (!stillWaits) {
    work.push(taskWork(task, REPORT_COST, () => actOnRun(services, task, conversation!, decision), gone));
  }
  return work;
}
