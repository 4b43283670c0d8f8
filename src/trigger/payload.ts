import type { EmitterWebhookEvent, EmitterWebhookEventName } from "@octokit/webhooks";
import { isObject } from "../is-object";

type Payload<E extends EmitterWebhookEventName> = EmitterWebhookEvent<E>["payload"];

/** GitHub's schema allows a comment without an author; the guards admit only one with, whose login the trigger compares. */
type Authored<T> = T & { comment: { user: { login: string } } };

export type IssueCommentEvent = Authored<Payload<"issue_comment.created" | "issue_comment.edited">>;
export type IssuesOpenedEvent = Payload<"issues.opened">;
export type IssuesLabeledEvent = Payload<"issues.labeled">;
export type PullRequestOpenedEvent = Payload<"pull_request.opened">;
export type PullRequestLabeledEvent = Payload<"pull_request.labeled">;
/** The events that may ask for a review on their own (`review:` in `.github/openhands.yml`). */
export type PullRequestReviewableEvent = Payload<
  "pull_request.opened" | "pull_request.ready_for_review" | "pull_request.synchronize"
>;
export type ReviewCommentCreatedEvent = Authored<Payload<"pull_request_review_comment.created">>;
export type ReviewSubmittedEvent = Payload<"pull_request_review.submitted">;

type TriggerEvent =
  | IssueCommentEvent
  | IssuesOpenedEvent
  | IssuesLabeledEvent
  | PullRequestOpenedEvent
  | PullRequestLabeledEvent
  | ReviewCommentCreatedEvent
  | ReviewSubmittedEvent;

/**
 * Where an event happened and who did it, as every event the App acts on carries them.
 * The installation may also be null in what GitHub sends: the trigger refuses both.
 */
export type CommonFields = Pick<TriggerEvent, "repository" | "sender"> & {
  installation?: TriggerEvent["installation"] | null;
};

/*
 * A signed payload is GitHub's, yet a guard still checks every field the trigger
 * reads before claiming the type: a malformed one must be ignored, not throw later.
 */

export function isIssueCommentEvent(payload: unknown): payload is IssueCommentEvent {
  return (
    isObject(payload) &&
    (payload.action === "created" || payload.action === "edited") &&
    hasCommonFields(payload) &&
    isComment(payload.comment) &&
    isThread(payload.issue)
  );
}

export function isIssuesEvent<A extends "opened" | "labeled">(
  payload: unknown,
  action: A,
): payload is Payload<`issues.${A}`> {
  return (
    isObject(payload) &&
    payload.action === action &&
    hasCommonFields(payload) &&
    isThread(payload.issue) &&
    isDated(payload.issue) &&
    // A pull request's payload is told from an issue's by this key alone.
    !("pull_request" in payload)
  );
}

export function isPullRequestEvent<A extends "opened" | "labeled">(
  payload: unknown,
  action: A,
): payload is Payload<`pull_request.${A}`> {
  return (
    isObject(payload) &&
    payload.action === action &&
    hasCommonFields(payload) &&
    isThread(payload.pull_request) &&
    isDated(payload.pull_request)
  );
}

const REVIEWABLE = ["opened", "ready_for_review", "synchronize"];

/**
 * A pull request opened, ready or pushed to, with what an automatic review reads: its author, head and
 * draft state, and for a push the head before it.
 */
export function isReviewableEvent(payload: unknown): payload is PullRequestReviewableEvent {
  if (!isObject(payload) || !REVIEWABLE.includes(String(payload.action))) return false;
  if (payload.action === "synchronize" && (typeof payload.before !== "string" || typeof payload.after !== "string"))
    return false;
  const pr = payload.pull_request;
  return (
    hasCommonFields(payload) &&
    isThread(pr) &&
    isDated(pr) &&
    isObject(pr) &&
    isObject(pr.user) &&
    typeof pr.user.login === "string" &&
    isObject(pr.head) &&
    typeof pr.head.sha === "string" &&
    typeof pr.head.ref === "string" &&
    (pr.draft === undefined || typeof pr.draft === "boolean") &&
    typeof pr.state === "string"
  );
}

export function isReviewCommentCreatedEvent(payload: unknown): payload is ReviewCommentCreatedEvent {
  return (
    isObject(payload) &&
    payload.action === "created" &&
    hasCommonFields(payload) &&
    isComment(payload.comment) &&
    typeof payload.comment.path === "string" &&
    typeof payload.comment.diff_hunk === "string" &&
    isOptionalPositiveInteger(payload.comment.line) &&
    isOptionalPositiveInteger(payload.comment.start_line) &&
    isOptionalPositiveInteger(payload.comment.in_reply_to_id) &&
    isThread(payload.pull_request)
  );
}

export function isReviewSubmittedEvent(payload: unknown): payload is ReviewSubmittedEvent {
  return (
    isObject(payload) &&
    payload.action === "submitted" &&
    hasCommonFields(payload) &&
    isObject(payload.review) &&
    isId(payload.review.id) &&
    isOptionalString(payload.review.body) &&
    typeof payload.review.html_url === "string" &&
    isOptionalString(payload.review.submitted_at) &&
    isThread(payload.pull_request) &&
    isDated(payload.pull_request)
  );
}

/**
 * The fields any event is read for before its kind is known. The other fields
 * stay `unknown`: an event not yet matched to a kind proves nothing about them.
 */
export function hasCommonFields(p: Record<string, unknown>): p is Record<string, unknown> & CommonFields {
  const { repository, sender, installation } = p;
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

function isComment(value: unknown): value is Record<string, unknown> {
  return (
    isObject(value) &&
    typeof value.body === "string" &&
    isId(value.id) &&
    typeof value.html_url === "string" &&
    isObject(value.user) &&
    typeof value.user.login === "string" &&
    isDated(value)
  );
}

/** An issue or a pull request, as both payloads carry them. */
function isThread(value: unknown): boolean {
  return (
    isObject(value) &&
    isId(value.number) &&
    isId(value.id) &&
    typeof value.title === "string" &&
    typeof value.html_url === "string" &&
    isOptionalString(value.body)
  );
}

/** When a request was made is read from these; anything but a string could throw where it is parsed or printed. */
function isDated(value: unknown): boolean {
  return isObject(value) && typeof value.created_at === "string" && typeof value.updated_at === "string";
}

function isOptionalString(value: unknown): boolean {
  return value === null || value === undefined || typeof value === "string";
}

function isOptionalPositiveInteger(value: unknown): boolean {
  return value === null || value === undefined || isId(value);
}

export function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}
