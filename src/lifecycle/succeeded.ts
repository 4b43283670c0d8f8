import { pullRequestHead } from "../github/pulls";
import { runMetrics } from "../openhands/metrics";
import type { AppConversation } from "../openhands/types";
import type { Produced } from "../report/messages";
import { findProducedWork, PRODUCED_COST } from "../report/produced";
import { postReview, REVIEW_COST } from "../report/review";
import type { Services } from "../services";
import { conversationIdOf, type Task } from "../tasks/task";
import { threadOf } from "../trigger/request";
import { endTask } from "./ended";

/**
 * GitHub requests the good ending may cost beyond the final comment: the work looked up, or the review
 * posted and the pull request's head read.
 */
export const SUCCEEDED_COST = Math.max(PRODUCED_COST, REVIEW_COST + 1);

/**
 * The agent finished: what it produced is read back from GitHub (the pull requests it opened or
 * pushed to), or, for a review, the review is posted first, and the final comment says so.
 */
export async function endSucceeded(
  services: Services,
  task: Task,
  answer: { summary: string; conversation: AppConversation; unread?: true },
): Promise<Task> {
  const { summary, conversation } = answer;
  const produced = task.request.review
    ? await reviewProduced(services, task, conversation, summary)
    : await findProducedWork(services, task, conversation, summary);
  return endTask(services, task, {
    status: "succeeded",
    summary,
    produced,
    conversation,
    ...(answer.unread ? { summaryUnread: true } : {}),
  });
}

/** A review is posted on the pull request; it never claims changes, whatever the agent did. */
async function reviewProduced(
  services: Services,
  task: Task,
  conversation: AppConversation,
  message: string,
): Promise<Produced> {
  const view = {
    message,
    link: services.openhands.conversationLink(conversationIdOf(task)),
    durationMs: services.now().getTime() - Date.parse(task.createdAt),
    metrics: runMetrics(conversation, task.continues?.spentBefore),
  };
  const posted = await postReview(services, task, view);
  // The agent pushes nothing: a head that moved was moved by someone else, after what was reviewed.
  const head = await pullRequestHead(services.github(task.request.installationId), threadOf(task.request)).catch(
    () => undefined,
  );
  const movedTo = task.headSha && head?.sha && head.sha !== task.headSha ? head.sha : undefined;
  return {
    kind: "review",
    ...posted,
    ...(task.headSha ? { commit: task.headSha } : {}),
    ...(movedTo ? { movedTo } : {}),
  };
}
