import { isObject } from "../is-object";
import { adoptConversation, markStarted, switchToStartTask } from "../lifecycle/started";
import { log } from "../log";
import { normalizeId } from "../openhands/client";
import { OpenHandsError } from "../openhands/errors";
import type { StartConversationRequest, StartTask } from "../openhands/types";
import { buildPrompt } from "../prompt/build";
import type { Services } from "../services";
import { dashed } from "../tasks/ids";
import type { Task } from "../tasks/task";
import { appIdentityStart } from "./git-identity";

/** Start tasks made before the task was recorded are not ours; the margin covers clock skew between Cloudflare and OpenHands. */
const CLOCK_SKEW_MS = 5 * 60_000;

async function startRequestFor(services: Services, task: Task): Promise<StartConversationRequest> {
  const { request, previous } = task;
  const link = (id: string) => services.openhands.conversationLink(id);
  const earlier = previous ? { link: link(previous.conversationId), summary: previous.summary } : undefined;
  const text = buildPrompt(request, { branch: task.branch, previous: earlier, context: task.context });
  // OpenHands clones with the key owner's login; as the App, the agent clones itself (git-identity.ts).
  const git =
    services.config.gitIdentity === "app"
      ? await appIdentityStart(services, task)
      : {
          selected_repository: request.repository,
          ...(task.branch ? { selected_branch: task.branch } : {}),
          git_provider: "github" as const,
        };
  return {
    conversation_id: dashed(task.id),
    initial_message: { content: [{ type: "text", text }] },
    ...git,
    trigger: "openhands_api",
    ...(request.isPullRequest ? { pr_number: [request.number] } : {}),
  };
}

/** A start of ours that the service ended in ERROR: its `detail` is what the user is told. */
export class StartFailedError extends OpenHandsError {
  constructor(readonly detail: string) {
    super(detail, undefined, false);
    this.name = "StartFailedError";
  }
}

/**
 * Asks OpenHands to start the task's conversation and records the start task.
 * OpenHands errors propagate to the caller, which decides between retry and failure.
 *
 * After a first attempt, an earlier call may have reached the service without
 * our hearing back. The service does not refuse a second start with the same
 * conversation id: it collides with the first and fails or never ends. So the
 * conversation and our own start tasks are looked up first, and a start is
 * POSTed again only when the service knows neither.
 */
export async function startConversation(services: Services, task: Task): Promise<Task> {
  if (task.attempts > 0) {
    const known = await findOwnStart(services, task);
    if (known) return known;
  }
  const started = await services.openhands.startConversation(await startRequestFor(services, task));
  // A server older than the `secrets` field (OpenHands PR #14009) drops it unsaid: the agent then holds the key
  // owner's token instead of the App's. Its echo says so (a secret it kept shows as "**********").
  if (services.config.gitIdentity === "app" && !isObject(started.request?.secrets))
    log("warn", "start.secrets_ignored", { task: task.id });
  return markStarted(services, task, normalizeId(started.id), false);
}

async function findOwnStart(services: Services, task: Task): Promise<Task | null> {
  const { openhands } = services;
  const [conversation] = await openhands.conversations([task.id]);
  if (conversation) return adoptConversation(services, task);
  const starts = await ownStartTasks(services, task);
  const live = liveStartTask(starts);
  if (live) return markStarted(services, task, normalizeId(live.id), true);
  const failed = starts.find((t) => t.status === "ERROR");
  if (failed) throw new StartFailedError(failed.detail?.trim() || "OpenHands could not start the conversation");
  return null;
}

/** This task's start tasks, newest first, matched on the conversation id we chose. */
async function ownStartTasks(services: Services, task: Task): Promise<StartTask[]> {
  return services.openhands.findStartTasks(task.id, new Date(Date.parse(task.createdAt) - CLOCK_SKEW_MS));
}

/** The start task worth following among several of ours: one that has not failed. */
function liveStartTask(startTasks: readonly StartTask[]): StartTask | null {
  return startTasks.find((t) => t.status === "READY") ?? startTasks.find((t) => t.status !== "ERROR") ?? null;
}

/**
 * Our start task ended in ERROR. Another start of ours may still be on its way
 * (an earlier attempt whose answer was lost): follow it, never a start made for
 * some other conversation id. Null when there is none.
 */
export async function adoptOtherStart(services: Services, task: Task): Promise<Task | null> {
  const other = liveStartTask(
    (await ownStartTasks(services, task)).filter((t) => normalizeId(t.id) !== task.startTaskId),
  );
  if (!other) return null;
  return switchToStartTask(services, task, normalizeId(other.id));
}
