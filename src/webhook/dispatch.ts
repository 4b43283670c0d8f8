import type {
  IssueCommentCreatedEvent,
  IssuesLabeledEvent,
  IssuesOpenedEvent,
  PullRequestLabeledEvent,
  PullRequestOpenedEvent,
  PullRequestReviewCommentCreatedEvent,
  PullRequestReviewSubmittedEvent,
} from "@octokit/webhooks-types";
import { DEFAULT_REPO_CONFIG, type ParsedRepoConfig, type RepoConfig, eventNameOf } from "../repo-config/parse";
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
export function decide(event: string, payload: unknown, repo: RepoConfig = DEFAULT_REPO_CONFIG): Decision {
  const decision = decideTrigger(event, payload, repo);
  if (!decision.run) return decision;
  const edited = isObject(payload) && payload.action === "edited";
  if (!repo.events.includes(eventNameOf(decision.request.kind, edited))) {
    return { run: false, reason: "this trigger is switched off in .github/openhands.yml" };
  }
  const settings = { mention: repo.mention, instructions: repo.instructions, branchPrefix: repo.branchPrefix, draftPr: repo.draftPr };
  return { run: true, request: { ...decision.request, settings } };
}

/** Where a candidate event happened: enough to record it and to read its repository's config. */
export interface CandidateEvent {
  owner: string;
  repo: string;
  installationId: number;
  number: number;
}

/**
 * A cheap pre-filter on the payload alone: whether the event could be a request
 * under some repository config (any mention, any label). Only these are worth
 * reading `.github/openhands.yml` for, or recording before answering.
 */
export function mayTrigger(event: string, payload: unknown): CandidateEvent | undefined {
  if (!isObject(payload) || !hasCommon(payload) || !isObject(payload.installation) || !isId(payload.installation.id)) return undefined;
  const name = `${event}.${String(payload.action)}`;
  const text =
    name === "issue_comment.created" || name === "issue_comment.edited" || name === "pull_request_review_comment.created"
      ? payload.comment?.body
      : name === "pull_request_review.submitted"
        ? payload.review?.body
        : name === "issues.opened"
          ? payload.issue?.body
          : name === "pull_request.opened"
            ? payload.pull_request?.body
            : undefined;
  const labeled = name === "issues.labeled" || name === "pull_request.labeled";
  if (!labeled && !(typeof text === "string" && text.includes("@"))) return undefined;
  const number = (payload.issue ?? payload.pull_request)?.number;
  if (!isId(number)) return undefined;
  return { owner: payload.repository.owner.login, repo: payload.repository.name, installationId: payload.installation.id, number };
}

/** The decision under a repository's config, with the config's own problem carried to the tracking comment. */
export function decideWith(event: string, payload: unknown, parsed: ParsedRepoConfig): Decision {
  const decision = decide(event, payload, parsed.config);
  if (decision.run && parsed.problem && decision.request.settings) decision.request.settings.configProblem = parsed.problem;
  return decision;
}

function decideTrigger(event: string, payload: unknown, repo: RepoConfig): Decision {
  if (!isObject(payload)) return { run: false, reason: "payload is not an object" };
  const settings = { mention: repo.mention, label: repo.label, allowedBots: repo.allowedBots };
  const name = `${event}.${typeof payload.action === "string" ? payload.action : ""}`;
  const malformed: Decision = { run: false, reason: `payload of ${name} is missing fields` };
  switch (name) {
    case "issue_comment.created":
    case "issue_comment.edited":
      return hasCommon(payload) && isComment(payload.comment) && isThread(payload.issue)
        ? checkIssueComment(payload as unknown as IssueCommentCreatedEvent, settings)
        : malformed;
    case "issues.opened":
    case "issues.labeled":
      if (!hasCommon(payload) || !isThread(payload.issue)) return malformed;
      return name === "issues.opened"
        ? checkOpened(payload as unknown as IssuesOpenedEvent, settings)
        : checkLabeled(payload as unknown as IssuesLabeledEvent, settings);
    case "pull_request.opened":
    case "pull_request.labeled":
      if (!hasCommon(payload) || !isThread(payload.pull_request)) return malformed;
      return name === "pull_request.opened"
        ? checkOpened(payload as unknown as PullRequestOpenedEvent, settings)
        : checkLabeled(payload as unknown as PullRequestLabeledEvent, settings);
    case "pull_request_review_comment.created":
      return hasCommon(payload) && isComment(payload.comment) && typeof payload.comment.path === "string" && typeof payload.comment.diff_hunk === "string" && isThread(payload.pull_request)
        ? checkReviewComment(payload as unknown as PullRequestReviewCommentCreatedEvent, settings)
        : malformed;
    case "pull_request_review.submitted":
      return hasCommon(payload) && isObject(payload.review) && isId(payload.review.id) && isOptionalString(payload.review.body) && typeof payload.review.html_url === "string" && isThread(payload.pull_request)
        ? checkReview(payload as unknown as PullRequestReviewSubmittedEvent, settings)
        : malformed;
    default:
      return { run: false, reason: `event ${name.replace(/\.$/, "")} is not handled` };
  }
}

function hasCommon(p: Record<string, unknown>): p is Record<string, any> {
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
