import type {
  IssueCommentCreatedEvent,
  IssuesLabeledEvent,
  IssuesOpenedEvent,
  PullRequestLabeledEvent,
  PullRequestOpenedEvent,
  PullRequestReviewCommentCreatedEvent,
  PullRequestReviewSubmittedEvent,
} from "@octokit/webhooks-types";
import { checkIssueComment } from "../trigger/issue-comment";
import type { Decision } from "../trigger/request";
import { checkReview, checkReviewComment } from "../trigger/review";
import { checkLabeled, checkOpened } from "../trigger/thread-event";

/**
 * Which events the App acts on, and the pure check deciding whether this one
 * asks for work. Anything not listed is acknowledged and ignored. Payloads are
 * trusted once signed, but their shape is still checked, so that a malformed
 * one is ignored here instead of throwing later.
 */
export function decide(event: string, payload: unknown): Decision {
  if (!isObject(payload)) return { run: false, reason: "payload is not an object" };
  const name = `${event}.${typeof payload.action === "string" ? payload.action : ""}`;
  const malformed: Decision = { run: false, reason: `payload of ${name} is missing fields` };
  switch (name) {
    case "issue_comment.created":
    case "issue_comment.edited":
      return hasCommon(payload) && isComment(payload.comment) && isThread(payload.issue)
        ? checkIssueComment(payload as unknown as IssueCommentCreatedEvent)
        : malformed;
    case "issues.opened":
    case "issues.labeled":
      if (!hasCommon(payload) || !isThread(payload.issue)) return malformed;
      return name === "issues.opened"
        ? checkOpened(payload as unknown as IssuesOpenedEvent)
        : checkLabeled(payload as unknown as IssuesLabeledEvent);
    case "pull_request.opened":
    case "pull_request.labeled":
      if (!hasCommon(payload) || !isThread(payload.pull_request)) return malformed;
      return name === "pull_request.opened"
        ? checkOpened(payload as unknown as PullRequestOpenedEvent)
        : checkLabeled(payload as unknown as PullRequestLabeledEvent);
    case "pull_request_review_comment.created":
      return hasCommon(payload) && isComment(payload.comment) && typeof payload.comment.path === "string" && typeof payload.comment.diff_hunk === "string" && isThread(payload.pull_request)
        ? checkReviewComment(payload as unknown as PullRequestReviewCommentCreatedEvent)
        : malformed;
    case "pull_request_review.submitted":
      return hasCommon(payload) && isObject(payload.review) && isId(payload.review.id) && isOptionalString(payload.review.body) && typeof payload.review.html_url === "string" && isThread(payload.pull_request)
        ? checkReview(payload as unknown as PullRequestReviewSubmittedEvent)
        : malformed;
    default:
      return { run: false, reason: `event ${name.replace(/\.$/, "")} is not handled` };
  }
}

function hasCommon(p: Record<string, unknown>): boolean {
  const repository = p.repository;
  const sender = p.sender;
  const installation = p.installation;
  return (
    isObject(repository) &&
    typeof repository.full_name === "string" &&
    typeof repository.name === "string" &&
    isObject(repository.owner) &&
    typeof repository.owner.login === "string" &&
    isObject(sender) &&
    typeof sender.login === "string" &&
    (installation === undefined || installation === null || (isObject(installation) && isId(installation.id)))
  );
}

function isComment(value: unknown): value is Record<string, any> {
  return (
    isObject(value) &&
    typeof value.body === "string" &&
    isId(value.id) &&
    typeof value.html_url === "string" &&
    isObject(value.user) &&
    typeof value.user.login === "string"
  );
}

/** An issue or a pull request, as both payloads carry them. */
function isThread(value: unknown): value is Record<string, any> {
  return (
    isObject(value) &&
    isId(value.number) &&
    isId(value.id) &&
    typeof value.title === "string" &&
    typeof value.html_url === "string" &&
    isOptionalString(value.body)
  );
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isOptionalString(value: unknown): boolean {
  return value === null || value === undefined || typeof value === "string";
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}
