import { addEyesToComment, createComment, pullRequestHead } from "../github/thread";
import { log } from "../log";
import { issueCommentPrompt } from "../prompt/issue-comment";
import { forkNotSupportedReply, notAllowedReply, workingComment } from "../report/messages";
import { conversationIdFor } from "../tasks/ids";
import type { Task } from "../tasks/task";
import type { TriggerRequest } from "../trigger/issue-comment";
import { hasWriteAccess } from "../trigger/permission";
import type { Services } from "./services";
import { startConversation } from "./start-conversation";

export type AcceptOutcome = "duplicate" | "not_allowed" | "fork" | "started" | "queued" | "failed";

/**
 * Turns a request someone made on GitHub into a task: checks who asked,
 * acknowledges, writes the tracking comment, records the task, then starts it.
 * The task is saved before OpenHands is called, so a crash afterwards leaves a
 * queued task the cron recovers instead of a conversation nobody follows.
 */
export async function acceptRequest(services: Services, request: TriggerRequest): Promise<AcceptOutcome> {
  const { store, openhands } = services;
  const id = await conversationIdFor(request.triggerKey);
  if (await store.get(id)) {
    log("info", "request.duplicate", { task: id, trigger: request.triggerKey });
    return "duplicate";
  }

  const github = services.github(request.installationId);
  const thread = { owner: request.owner, repo: request.repo, number: request.number };
  if (!(await hasWriteAccess(github, request.owner, request.repo, request.requester))) {
    log("info", "request.not_allowed", { trigger: request.triggerKey, sender: request.requester });
    await createComment(github, thread, notAllowedReply(request.requester));
    return "not_allowed";
  }

  await addEyesToComment(github, thread, request.commentId).catch((error: unknown) =>
    // The reaction is a courtesy; the tracking comment below is the real answer.
    log("warn", "github.reaction_failed", { trigger: request.triggerKey, status: (error as { status?: number }).status }),
  );

  let branch: string | undefined;
  if (request.isPullRequest) {
    const head = await pullRequestHead(github, thread);
    if (head.repository !== request.repository) {
      log("info", "request.fork", { trigger: request.triggerKey });
      await createComment(github, thread, forkNotSupportedReply(request.requester));
      return "fork";
    }
    branch = head.ref;
  }

  const now = services.now().toISOString();
  const task: Task = {
    id,
    repository: request.repository,
    number: request.number,
    isPullRequest: request.isPullRequest,
    installationId: request.installationId,
    requester: request.requester,
    triggerCommentId: request.commentId,
    triggerUrl: request.commentUrl,
    ...(branch ? { branch } : {}),
    prompt: issueCommentPrompt({ ...request, branch }),
    status: "queued",
    createdAt: now,
    updatedAt: now,
    startAttempts: 0,
  };
  const link = openhands.conversationLink(id);
  try {
    task.trackingCommentId = await createComment(github, thread, workingComment({ task, link }));
  } catch (error) {
    // Not a reason to drop the request: the poller posts the comment on a later tick.
    log("warn", "github.tracking_comment_failed", { task: id, status: (error as { status?: number }).status });
  }
  await store.save(task);
  log("info", "task.created", { task: id, trigger: request.triggerKey, repository: task.repository, number: task.number });

  const started = await startConversation(services, task, false);
  return started.status === "starting" ? "started" : started.status === "queued" ? "queued" : "failed";
}
