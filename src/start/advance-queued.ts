import { RequestError } from "@octokit/request-error";
import { AgentTokenRefusedError } from "../github/agent-token";
import { GitHubGarbageError } from "../github/errors";
import { ThreadGoneError } from "../github/gone";
import { hasWriteAccess } from "../github/permission";
import { type PullRequestHead, pullRequestHead } from "../github/pulls";
import { gitHubRetryAt } from "../github/rate-limit";
import { httpStatus } from "../http-status";
import { endForGoneThread, endTask } from "../lifecycle/ended";
import { acceptTask, keepQueued, rejectTask } from "../lifecycle/queued";
import { withTrackingComment } from "../lifecycle/started";
import { errorName, log } from "../log";
import { START_TASK_SEARCH_PAGES } from "../openhands/client";
import { OpenHandsError } from "../openhands/errors";
import type { Services } from "../services";
import type { FailureReason, UpstreamTrouble } from "../tasks/reasons";
import { ENDED_RETENTION_MS, type TaskEntry } from "../tasks/store";
import { isPending, type Task } from "../tasks/task";
import { threadKey, threadOf } from "../trigger/request";
import { CONTINUE_COST, continueConversation, continuing } from "./continue-conversation";
import { checkFollowUp, earlierOnThread } from "./follow-up";
import { GATHER_COST, gatherContext } from "./gather-context";
import { checkLimits } from "./limits";
import { REVIEW_RANGE_COST, reviewSince } from "./review-range";
import { StartFailedError, startConversation } from "./start-conversation";
import { SUPERSEDE_COST, supersedeOlderReviews } from "./supersede";

/**
 * Outbound requests one advance may need at most, the token aside: the replay check, permission, 👀, PR,
 * follow-up and its note, comment lookup and post, the lost-start lookup (conversation, search pages),
 * start, queued notice; with GIT_IDENTITY=app, the agent's token and the App's bot account; for a review,
 * the App's last review looked up, and after a push, stopping the review it supersedes; going on with the
 * thread's last conversation (read, resumed, sent to) before a start in its place.
 * A request verified on an earlier advance has its permission asked again (one or two requests) in
 * place of the verification's permission, PR, replay, context and 👀 requests, so within the same count.
 */
export const ADVANCE_COST =
  1 + 9 + 1 + START_TASK_SEARCH_PAGES + GATHER_COST + 2 + REVIEW_RANGE_COST + SUPERSEDE_COST + CONTINUE_COST;
const BASE_BACKOFF_MS = 60_000;
const MAX_BACKOFF_MS = 30 * 60_000;
const SLOT_RECHECK_MS = 2 * 60_000;

/**
 * Moves a queued task as far as it can go: check who asked and the limits,
 * acknowledge, make sure the tracking comment exists, start the conversation.
 * The webhook calls it right after recording the task, and the cron calls it
 * again for every queued task that is due, so any step that failed is retried.
 */
export async function advanceQueued(services: Services, task: Task, entries: readonly TaskEntry[]): Promise<Task> {
  let current = task;
  const soon = () => new Date(services.now().getTime() + SLOT_RECHECK_MS);
  // Verified on an earlier advance: who asked is asked about again before anything is done for them.
  let recheck = task.verified === true;
  const lostAccess = async () => {
    if (!recheck) return false;
    recheck = false;
    if (await mayAsk(services, current)) return false;
    log("info", "request.access_lost", { task: task.id, sender: task.request.requester, author: task.request.author });
    return true;
  };
  try {
    if (!current.verified) {
      current = await verify(services, current);
      if (current.status !== "queued") return current;
    }
    const thread = await supersedeOlderReviews(services, current, entries);
    // A request still going on this thread may be sent this one at once (checkFollowUp).
    if (threadBusy(current, thread) && (await lostAccess())) return await rejectTask(services, current, "not_allowed");
    const followUp = await checkFollowUp(services, current, thread);
    if (followUp.kind === "forwarded") return followUp.task;
    if (followUp.kind === "wait") {
      return await keepQueued(services, current, task, {
        reason: followUp.reason,
        retryAt: soon(),
        isError: false,
        showRetryAt: false,
      });
    }
    if (followUp.kind === "continue") current = continuing(current, followUp.last);
    else if (followUp.previous) current = { ...current, previous: followUp.previous };
    const verdict = checkLimits(thread, selfOf(current), services.now().getTime(), services.config);
    if (verdict.kind === "wait_for_slot") {
      const reason = { kind: "no_free_slot", running: verdict.running, limit: services.config.maxRunning } as const;
      return await keepQueued(services, current, task, { reason, retryAt: soon(), isError: false, showRetryAt: false });
    }
    if (verdict.kind === "over_limit") {
      const reason = { kind: "hourly_limit", scope: verdict.scope, limit: verdict.limit } as const;
      log("warn", "request.over_limit", {
        task: task.id,
        scope: verdict.scope,
        retryAt: verdict.retryAt.toISOString(),
      });
      return await keepQueued(services, current, task, {
        reason,
        retryAt: verdict.retryAt,
        isError: false,
        showRetryAt: true,
      });
    }
    if (await lostAccess()) return await rejectTask(services, current, "not_allowed");
    if (current.trackingCommentId === undefined) current = await withTrackingComment(services, current);
    return current.continues
      ? await continueConversation(services, current)
      : await startConversation(services, current);
  } catch (error) {
    return handleFailure(services, current, task, error);
  }
}

/** Clock skew between GitHub, OpenHands and the Worker. */
const REPLAY_MARGIN_MS = 60_000;

/**
 * Ended tasks are kept a day. A signed delivery replayed later (within the week
 * `MAX_TRIGGER_AGE_MS` allows) is recorded anew, but the conversation named after
 * its event is still on OpenHands, started before this record: asked before
 * the 👀 or any comment. A conversation started after the record is this
 * task's own start whose answer was lost, which the start step adopts.
 *
 * A request made less than a day before this record was recorded cannot be such a
 * replay: any earlier delivery's task began after the request and its record is
 * still kept, so `recordTask` would have found it. Only older requests cost a read,
 * which keeps a burst of new requests from doubling its OpenHands traffic.
 */
async function isReplayOfEndedTask(services: Services, task: Task): Promise<boolean> {
  const age = Date.parse(task.createdAt) - Date.parse(task.request.triggeredAt);
  if (age < ENDED_RETENTION_MS - REPLAY_MARGIN_MS) return false;
  // The start task's time, not the conversation's `created_at`, which moves with each agent-server report.
  const started = await services.openhands.readyStartTaskOf(task.id);
  const created = Date.parse(started?.created_at ?? "");
  return started != null && Number.isFinite(created) && created < Date.parse(task.createdAt) - REPLAY_MARGIN_MS;
}

/** Who asked, and the author of the text they asked with, may write to the repository: checked on GitHub. */
async function mayAsk(services: Services, task: Task): Promise<boolean> {
  const { request } = task;
  const client = services.github(request.installationId);
  return (
    (await hasWriteAccess(client, request.owner, request.repo, request.requester)) &&
    (request.author === undefined || (await hasWriteAccess(client, request.owner, request.repo, request.author)))
  );
}

/** An earlier request on the thread is still pending (as checkFollowUp counts them). */
function threadBusy(task: Task, entries: readonly TaskEntry[]): boolean {
  return earlierOnThread(task, entries).some((e) => isPending(e.status));
}

async function verify(services: Services, task: Task): Promise<Task> {
  const { request } = task;
  const client = services.github(request.installationId);
  const thread = threadOf(request);
  if (!(await mayAsk(services, task))) return rejectTask(services, task, "not_allowed");
  let head: PullRequestHead | undefined;
  if (request.isPullRequest) {
    head = await pullRequestHead(client, thread);
    if (head.repository !== request.repository) return rejectTask(services, task, "fork");
  }
  if (task.attempts === 0 && (await isReplayOfEndedTask(services, task))) return rejectTask(services, task, "replayed");
  const since = await reviewSince(client, request, head);
  return acceptTask(services, task, {
    context: await gatherContext(client, request, head, services.githubContent),
    head,
    since,
  });
}

/**
 * Upstream trouble: GitHub or OpenHands said "later" (429, 5xx, timeout,
 * garbage). The task waits with backoff, unless attempts ran out or the thread
 * is gone, and the user hears about it either way.
 */
async function handleFailure(services: Services, current: Task, original: Task, error: unknown): Promise<Task> {
  // The thread takes no comment (deleted, locked, archived, the App removed): nobody is left to
  // answer, and no conversation is started for nobody.
  if (error instanceof ThreadGoneError) return endForGoneThread(services, current, error);
  const status = httpStatus(error);
  const isGitHub = error instanceof RequestError || error instanceof GitHubGarbageError;
  if (!isGitHub && !(error instanceof OpenHandsError)) {
    // A library choking on an odd answer must not make the cron replay steps already done
    // (a second 👀, a second reply): record the progress and retry like any upstream failure.
    log("error", "task.unexpected_error", { task: current.id, error: errorName(error) });
  }

  // The issue, the comment or the repository is gone: there is nobody left to answer.
  if (isGitHub && (status === 404 || status === 410)) return endForGoneThread(services, current, status);
  const trouble = troubleOf(services, error);
  const attempts = current.attempts + 1;
  const retryable = !(error instanceof OpenHandsError || error instanceof AgentTokenRefusedError) || error.retryable;
  if (retryable && attempts < services.config.startMaxAttempts) {
    const now = services.now().getTime();
    const backoff = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempts - 1));
    // Whichever upstream said when to come back is believed over our own schedule.
    const told = error instanceof OpenHandsError ? error.retryAt : gitHubRetryAt(error, now);
    const retryAt = new Date(Math.max(now + backoff, told ?? 0));
    log("warn", "task.start_deferred", { task: current.id, attempts, retryAt: retryAt.toISOString(), ...trouble });
    return keepQueued(services, { ...current, attempts }, original, {
      reason: { kind: "upstream", trouble },
      retryAt,
      isError: true,
      showRetryAt: true,
    }).catch((noticeError: unknown) => {
      if (noticeError instanceof ThreadGoneError)
        return endForGoneThread(services, { ...current, attempts }, noticeError);
      throw noticeError;
    });
  }
  log("error", "task.start_failed", { task: current.id, attempts, ...trouble });
  const reason: FailureReason =
    error instanceof StartFailedError
      ? { kind: "start_refused", detail: services.redact(error.message) }
      : error instanceof AgentTokenRefusedError
        ? { kind: "agent_token_refused", detail: services.redact(error.message) }
        : retryable
          ? { kind: "start_attempts_spent", attempts, trouble }
          : { kind: "start_rejected", trouble };
  return endTask(services, { ...current, attempts }, { status: "failed", reason, upstream: trouble });
}

function troubleOf(services: Services, error: unknown): UpstreamTrouble {
  if (error instanceof OpenHandsError) return { service: "openhands", detail: services.redact(error.message) };
  if (error instanceof AgentTokenRefusedError)
    return { service: "github", status: 422, refusal: services.redact(error.message) };
  if (!(error instanceof RequestError) && !(error instanceof GitHubGarbageError)) return { service: "unknown" };
  return { service: "github", status: httpStatus(error) };
}

function selfOf(task: Task) {
  return {
    id: task.id,
    thread: threadKey(task.request),
    installationId: task.request.installationId,
    createdMs: Date.parse(task.createdAt),
  };
}
