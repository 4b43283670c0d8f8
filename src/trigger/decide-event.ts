import { isKnownDenied } from "../github/permission";
import { isObject } from "../is-object";
import { DEFAULT_REPO_CONFIG, eventNameOf, type ParsedRepoConfig, type RepoConfig } from "../repo-config/parse";
import { ENDED_RETENTION_MS } from "../tasks/store";
import { hasNoAccess } from "../trigger/actor";
import { checkAutoReview } from "../trigger/auto-review";
import { parseCommand } from "../trigger/command";
import { checkIssueComment } from "../trigger/issue-comment";
import { MENTION_BOUNDARY } from "../trigger/mention";
import {
  hasCommonFields,
  isId,
  isIssueCommentEvent,
  isIssuesEvent,
  isPullRequestEvent,
  isReviewableEvent,
  isReviewCommentCreatedEvent,
  isReviewSubmittedEvent,
} from "../trigger/payload";
import { type Decision, freshAsked, type KindDecision, type RequestSettings, reviewAsked } from "../trigger/request";
import { checkReview, checkReviewComment } from "../trigger/review";
import { checkLabeled, checkOpened } from "../trigger/thread-event";
import type { TriggerWords } from "../trigger/words";

/** What the deployment, not the repository, adds to the decision. */
export interface Deployment {
  /** The mention and label a repository's config does not set (trigger/words.ts). */
  words: TriggerWords;
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
const MAX_TRIGGER_AGE_MS = 7 * 24 * 3600_000;
/**
 * A command leaves nothing on OpenHands to meet a replay, only its record, kept a day: a
 * `stop` replayed on day two would stop whatever runs on the thread by then. So a command
 * made longer ago than its record is kept is refused.
 */
const MAX_COMMAND_AGE_MS = ENDED_RETENTION_MS;

/**
 * Which events the App acts on, and the pure check deciding whether this one
 * asks for work. Anything not listed is acknowledged and ignored. Payloads are
 * trusted once signed, but their shape is still checked, so that a malformed
 * one is ignored here instead of throwing later.
 */
export function decideEvent(
  event: string,
  payload: unknown,
  parsed: ParsedRepoConfig,
  deployment: Deployment,
): Decision {
  const repo = parsed.config;
  const decision = decideByKind(event, payload, repo, deployment);
  if (!decision.run) return decision;
  const made = Date.parse(decision.request.triggeredAt);
  const isCommand = decision.request.kind !== "label" && parseCommand(decision.request.request) !== undefined;
  const age = deployment.receivedAt === undefined ? 0 : deployment.receivedAt - made;
  if (isCommand && !(age <= MAX_COMMAND_AGE_MS)) {
    return { run: false, reason: "the command was made more than a day before it arrived" };
  }
  if (!(age <= MAX_TRIGGER_AGE_MS)) {
    return { run: false, reason: "the request was made more than seven days before it arrived" };
  }
  const edited = isObject(payload) && payload.action === "edited";
  const eventName = eventNameOf(decision.request.kind, edited);
  // An automatic review has its own switch (`review.on_open`), checked by its trigger.
  if (eventName && !repo.events.includes(eventName)) {
    return { run: false, reason: "this trigger is switched off in .github/openhands.yml" };
  }
  // The config's problem goes with the request, to be said in the tracking comment.
  const settings: RequestSettings = {
    ...wordsOf(repo, deployment),
    reviewInstructions: repo.reviewInstructions,
    autoReview: repo.autoReview,
    instructions: repo.instructions,
    branchPrefix: repo.branchPrefix,
    draftPr: repo.draftPr,
    continueDays: repo.continueDays,
    ...(parsed.problem ? { configProblem: parsed.problem } : {}),
  };
  const fresh = freshAsked(decision.request);
  const asked = fresh ? { ...decision.request, request: fresh, fresh: true as const } : decision.request;
  const review = asked.review ?? reviewAsked(asked);
  return { run: true, request: { ...asked, ...(review ? { review } : {}), settings } };
}

/**
 * Why a delivery `mayTrigger` passed over asks for nothing, for the log. It has no mention-shaped word and
 * no label, so no mention or label could make it a request: the decision is made with any.
 */
export function reasonToIgnore(event: string, payload: unknown): string {
  // The text can hold no mention (`mayTrigger` looked): the reason comes from the rest, without reading it again.
  const decision = decideByKind(event, withoutText(event, payload), DEFAULT_REPO_CONFIG, {
    words: { mention: "@", label: "" },
  });
  return decision.run ? "no mention" : decision.reason;
}

/** The payload with the sender's text emptied, for a decision that must not read it. */
function withoutText(event: string, payload: unknown): unknown {
  if (!isObject(payload)) return payload;
  const name = `${event}.${String(payload.action)}`;
  const authored = authoredField(name, payload);
  if (!isObject(authored)) return payload;
  const key = Object.keys(payload).find((k) => payload[k] === authored);
  return key ? { ...payload, [key]: { ...authored, body: "" } } : payload;
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
  if (!isObject(payload) || !hasCommonFields(payload)) return undefined;
  if (!isObject(payload.installation) || !isId(payload.installation.id)) return undefined;
  const name = `${event}.${String(payload.action)}`;
  const authored = authoredField(name, payload);
  const body = isObject(authored) ? authored.body : undefined;
  const labeled = name === "issues.labeled" || name === "pull_request.labeled";
  // A pull request may ask for its review with no word at all, when its repository says so.
  const reviewable = REVIEWABLE_EVENTS.includes(name);
  if (!labeled && !reviewable && !(typeof body === "string" && MENTION_SHAPED.test(body))) return undefined;
  const thread = payload.issue ?? payload.pull_request;
  const number = isObject(thread) ? thread.number : undefined;
  if (!isId(number)) return undefined;
  return {
    owner: payload.repository.owner.login,
    repo: payload.repository.name,
    installationId: payload.installation.id,
    number,
  };
}

/** The pull request events that may ask for a review with no word at all (`review:` in the config). */
const REVIEWABLE_EVENTS = ["pull_request.opened", "pull_request.ready_for_review", "pull_request.synchronize"];

/** What the sender wrote for the event, by its name: the comment, the review, or the opened issue or PR. */
function authoredField(name: string, payload: Record<string, unknown>): unknown {
  return name === "issue_comment.created" ||
    name === "issue_comment.edited" ||
    name === "pull_request_review_comment.created"
    ? payload.comment
    : name === "pull_request_review.submitted"
      ? payload.review
      : name === "issues.opened"
        ? payload.issue
        : REVIEWABLE_EVENTS.includes(name)
          ? payload.pull_request
          : undefined;
}

/**
 * An "@" starting a login, not inside an e-mail address or a URL: only these can be a mention. The word
 * joiner is the one the App writes into `@openhands` (trigger/mention.ts).
 */
const MENTION_SHAPED = new RegExp(`${MENTION_BOUNDARY}@\u2060?[A-Za-z0-9]`);

/** Why the signed payload alone already says no, if it does. */
export function refusedAtOnce(event: string, payload: unknown): string | undefined {
  if (!isObject(payload) || !hasCommonFields(payload)) return undefined;
  const authored = authoredField(`${event}.${String(payload.action)}`, payload);
  if (!isObject(authored)) return undefined;
  // An edit by someone else (a maintainer fixing a typo) is that person's; their access is checked on GitHub.
  const author = isObject(authored.user) ? authored.user.login : undefined;
  if (typeof author === "string" && author.toLowerCase() !== payload.sender.login.toLowerCase()) return undefined;
  if (hasNoAccess(authored.author_association))
    return `sender has no access to the repository (${String(authored.author_association)})`;
  const { repository, sender } = payload;
  if (isKnownDenied(repository.owner.login, repository.name, sender.login)) return "sender was just found not allowed";
  return undefined;
}

/** The account owning the event's repository, when the payload names one. */
export function repositoryOwnerOf(payload: unknown): string | undefined {
  if (!isObject(payload) || !isObject(payload.repository) || !isObject(payload.repository.owner)) return undefined;
  const login = payload.repository.owner.login;
  return typeof login === "string" ? login : undefined;
}

/** The words that ask for work here: the repository's, else the deployment's. */
function wordsOf(repo: RepoConfig, deployment: Deployment) {
  return {
    mention: repo.mention ?? deployment.words.mention,
    label: repo.label ?? deployment.words.label,
    reviewLabel: repo.reviewLabel,
  };
}

function decideByKind(event: string, payload: unknown, repo: RepoConfig, deployment: Deployment): KindDecision {
  if (!isObject(payload)) return { run: false, reason: "payload is not an object" };
  const settings = {
    ...wordsOf(repo, deployment),
    allowedBots: repo.allowedBots,
    branchPrefix: repo.branchPrefix,
    agentLogin: deployment.agentLogin,
    autoReview: repo.autoReview,
  };
  const name = `${event}.${typeof payload.action === "string" ? payload.action : ""}`;
  const malformed: KindDecision = { run: false, reason: `payload of ${name} is missing fields` };
  switch (name) {
    case "issue_comment.created":
    case "issue_comment.edited":
      return isIssueCommentEvent(payload) ? checkIssueComment(payload, settings) : malformed;
    case "issues.opened":
      return isIssuesEvent(payload, "opened") ? checkOpened(payload, settings) : malformed;
    case "issues.labeled":
      return isIssuesEvent(payload, "labeled") ? checkLabeled(payload, settings) : malformed;
    case "pull_request.opened": {
      if (!isPullRequestEvent(payload, "opened")) return malformed;
      // Words in the description ask first; without them the repository may still want a review.
      const asked = checkOpened(payload, settings);
      if (asked.run || asked.reason !== "no mention") return asked;
      return isReviewableEvent(payload) ? checkAutoReview(payload, settings) : asked;
    }
    case "pull_request.ready_for_review":
    case "pull_request.synchronize":
      return isReviewableEvent(payload) ? checkAutoReview(payload, settings) : malformed;
    case "pull_request.labeled":
      return isPullRequestEvent(payload, "labeled") ? checkLabeled(payload, settings) : malformed;
    case "pull_request_review_comment.created":
      return isReviewCommentCreatedEvent(payload) ? checkReviewComment(payload, settings) : malformed;
    case "pull_request_review.submitted":
      return isReviewSubmittedEvent(payload) ? checkReview(payload, settings) : malformed;
    default:
      return { run: false, reason: `event ${name.replace(/\.$/, "")} is not handled` };
  }
}
