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
import { isKnownDenied } from "../github/permission";
import type { Decision } from "../trigger/request";
import { checkReview, checkReviewComment } from "../trigger/review";
import { checkLabeled, checkOpened } from "../trigger/thread-event";

/** What the deployment, not the repository, adds to the decision. */
export interface Deployment {
  /** The GitHub account the agent writes as, when known. */
  agentLogin?: string;
  /** When the event arrived (ms): a request older than `MAX_TRIGGER_AGE_MS` by then is refused. */
  receivedAt?: number;
}

/**
 * `X-GitHub-Delivery` is not signed, so a captured signed body could be sent
 * again at any time. Its own time is signed: a request made more than a week
 * before it arrives is refused. Within the week a replay meets its record (kept
 * a day after the task ended) or its conversation on OpenHands, so it starts
 * nothing twice. An operator's manual redelivery of a recent failed delivery
 * still works.
 */
export const MAX_TRIGGER_AGE_MS = 7 * 24 * 3600_000;

/**
 * Which events the App acts on, and the pure check deciding whether this one
 * asks for work. Anything not listed is acknowledged and ignored. Payloads are
 * trusted once signed, but their shape is still checked, so that a malformed
 * one is ignored here instead of throwing later.
 */
export function decide(event: string, payload: unknown, repo: RepoConfig = DEFAULT_REPO_CONFIG, deployment: Deployment = {}): Decision {
  const decision = decideTrigger(event, payload, repo, deployment);
  if (!decision.run) return decision;
  const made = Date.parse(decision.request.triggeredAt);
  if (deployment.receivedAt !== undefined && !(deployment.receivedAt - made <= MAX_TRIGGER_AGE_MS)) {
    return { run: false, reason: "the request was made more than seven days before it arrived" };
  }
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
  if (!labeled && !(typeof text === "string" && MENTION_SHAPED.test(text))) return undefined;
  const number = (payload.issue ?? payload.pull_request)?.number;
  if (!isId(number)) return undefined;
  return { owner: payload.repository.owner.login, repo: payload.repository.name, installationId: payload.installation.id, number };
}

/** An "@" starting a login, not inside an e-mail address or a URL: only these can be a mention. */
const MENTION_SHAPED = /(?:^|[^\w@./-])@[A-Za-z0-9]/;

/**
 * GitHub's `author_association` for someone with no access to the repository.
 * Such a person can never be allowed, so their events are refused from the
 * signed payload alone: no KV write, no GitHub call, nothing for an outsider to
 * spend on a public repository.
 */
const NO_ACCESS = ["NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "CONTRIBUTOR"];

/** Why the signed payload alone already says no, if it does. */
export function refusedAtOnce(event: string, payload: unknown): string | undefined {
  if (!isObject(payload) || !hasCommon(payload)) return undefined;
  const name = `${event}.${String(payload.action)}`;
  const authored =
    name === "issue_comment.created" || name === "issue_comment.edited" || name === "pull_request_review_comment.created"
      ? payload.comment
      : name === "pull_request_review.submitted"
        ? payload.review
        : name === "issues.opened"
          ? payload.issue
          : name === "pull_request.opened"
            ? payload.pull_request
            : undefined;
  if (!isObject(authored)) return undefined;
  // An edit by someone else (a maintainer fixing a typo) is that person's; their access is checked on GitHub.
  const author = isObject(authored.user) ? authored.user.login : undefined;
  if (typeof author === "string" && author.toLowerCase() !== String(payload.sender.login).toLowerCase()) return undefined;
  const association = authored.author_association;
  if (typeof association === "string" && NO_ACCESS.includes(association)) return `sender has no access to the repository (${association})`;
  if (isKnownDenied(payload.repository.owner.login, payload.repository.name, payload.sender.login)) return "sender was just found not allowed";
  return undefined;
}

/** The account owning the event's repository, when the payload names one. */
export function repositoryOwnerOf(payload: unknown): string | undefined {
  if (!isObject(payload) || !isObject(payload.repository) || !isObject(payload.repository.owner)) return undefined;
  const login = payload.repository.owner.login;
  return typeof login === "string" ? login : undefined;
}

/** The decision under a repository's config, with the config's own problem carried to the tracking comment. */
export function decideWith(event: string, payload: unknown, parsed: ParsedRepoConfig, deployment: Deployment = {}): Decision {
  const decision = decide(event, payload, parsed.config, deployment);
  if (decision.run && parsed.problem && decision.request.settings) decision.request.settings.configProblem = parsed.problem;
  return decision;
}

function decideTrigger(event: string, payload: unknown, repo: RepoConfig, deployment: Deployment): Decision {
  if (!isObject(payload)) return { run: false, reason: "payload is not an object" };
  const settings = { mention: repo.mention, label: repo.label, allowedBots: repo.allowedBots, branchPrefix: repo.branchPrefix, agentLogin: deployment.agentLogin };
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
