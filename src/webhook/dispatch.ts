import type { IssueCommentCreatedEvent } from "@octokit/webhooks-types";
import type { Decision } from "../trigger/request";
import { checkIssueComment } from "../trigger/issue-comment";

/**
 * Which events the App acts on, and the pure check deciding whether this one
 * asks for work. Anything not listed is acknowledged and ignored.
 */
export function decide(event: string, payload: unknown): Decision {
  if (!payload || typeof payload !== "object") return { run: false, reason: "payload is not an object" };
  const action = (payload as { action?: unknown }).action;
  if (event === "issue_comment" && action === "created") {
    if (!looksLikeIssueComment(payload)) return { run: false, reason: "payload is missing issue comment fields" };
    return checkIssueComment(payload);
  }
  return { run: false, reason: `event ${event}${typeof action === "string" ? `.${action}` : ""} is not handled` };
}

/** GitHub's payloads are trusted once signed, but a malformed one must not throw later. */
function looksLikeIssueComment(payload: object): payload is IssueCommentCreatedEvent {
  const p = payload as Partial<IssueCommentCreatedEvent>;
  return (
    typeof p.comment?.body === "string" &&
    isId(p.comment.id) &&
    typeof p.comment.html_url === "string" &&
    typeof p.comment.user?.login === "string" &&
    isId(p.issue?.number) &&
    typeof p.issue.title === "string" &&
    (p.issue.body === null || p.issue.body === undefined || typeof p.issue.body === "string") &&
    typeof p.repository?.full_name === "string" &&
    typeof p.repository.name === "string" &&
    typeof p.repository.owner?.login === "string" &&
    typeof p.sender?.login === "string" &&
    (p.installation === undefined || p.installation === null || isId(p.installation.id))
  );
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}
