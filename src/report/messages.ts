import type { PullRequestSummary } from "../github/pull-request";
import { codeSpan } from "../markdown/code-spans";
import type { AgentActivity } from "../openhands/activity";
import {
  defuseOpenHandsMention,
  labelCollides,
  mentionCollides,
  OPENHANDS_APP_LABEL,
  OPENHANDS_APP_MENTION,
} from "../openhands/github-app";
import type { RunMetrics } from "../openhands/metrics";
import type { ReviewComment } from "../openhands/review-block";
import { notAllowedMarker, reviewMarker, taskMarker } from "../own-marker";
import type { FailureReason, UpstreamTrouble, WaitReason } from "../tasks/reasons";
import type { ContinueFailure, Task } from "../tasks/task";
import type { AutoReview } from "../trigger/request";
import type { TriggerWords } from "../trigger/words";
import { agentLine, quoteAgentText } from "./agent-text";

/**
 * What the App says on GitHub. Every tracking comment carries a hidden marker
 * with the task id: it lets a retry find the comment it already posted, and lets
 * the trigger recognise the App's own text. None of it says the App's mention
 * as a request (the marker makes it the App's own), and no `@openhands` leaves
 * unbroken (github/thread.ts), so quoting it can never start a run of either App.
 */
/** What a finished run left on GitHub, as the result line says it (report/produced.ts finds it). */
export type Produced =
  | { kind: "pull_requests"; pulls: PullRequestSummary[] }
  /** A review posted on the pull request (report/review.ts): the agent changed nothing. */
  | {
      kind: "review";
      url: string;
      inline: number;
      folded: number;
      fromMessage: boolean;
      /** The head it looked at. */
      commit?: string;
      /** The head once it was posted, when someone pushed meanwhile. */
      movedTo?: string;
    }
  | { kind: "pushed"; branch: string }
  | { kind: "none" };

/** The agent's text a comment quotes at most; the conversation has the rest. */
const MAX_AGENT_CHARS = 10_000;
/** Longer than this, the agent's message is folded under the result, which stays the first thing read. */
const FOLD_AFTER_CHARS = 600;

interface View {
  task: Task;
  link: string;
}

function footer({ task, link }: View): string {
  return `${continueNote(task)}\n\n<sub>${askedBy(task.request)} · [Conversation](${link})</sub>\n${taskMarker(task.id)}`;
}

const CONTINUE_FAILURE_WORDS: Record<ContinueFailure, string> = {
  gone: "it is gone from OpenHands",
  not_back: "OpenHands did not bring its sandbox back",
};

/** The thread's last conversation could not go on: every comment of the request says why it started anew. */
function continueNote(task: Task): string {
  const why = task.continueFailed;
  return why
    ? `\n\n↪️ The thread's last conversation could not go on (${CONTINUE_FAILURE_WORDS[why]}): this is a new one, told what it concluded.`
    : "";
}

/** Who asked, and where; a review nobody asked for names the setting that asks for it. */
function askedBy(request: Task["request"]): string {
  if (request.kind !== "automatic") return `Requested by @${request.requester} in ${request.commentUrl}`;
  return `Automatic review (\`review.${request.review?.automatic ?? "on_open"}\` in \`.github/openhands.yml\`) of ${request.commentUrl}`;
}

/** While the agent runs: how long it has been working and what it does now, when the poller looked. */
export interface Progress {
  elapsedMs: number;
  activity?: AgentActivity;
}

export function workingComment(view: View & { progress?: Progress }): string {
  const { progress } = view;
  // A request that went on with the thread's last conversation says so: the agent remembers that run.
  const going = view.task.continues ? ", continuing the conversation" : "";
  const headline = progress
    ? `👀 **OpenHands has been working on it for ${formatDuration(progress.elapsedMs)}${going}.**`
    : `👀 **OpenHands is working on it${going}.**`;
  const now = progress?.activity ? `\n\n${activityLine(progress.activity)}` : "";
  return `${headline} Follow along in the [live conversation](${view.link}); this comment will be updated with the result.${now}${configNote(view)}${footer(view)}`;
}

/**
 * Whether a tracking comment still shows the agent at work. A look at its progress
 * edits only such a comment: a result posted meanwhile (an overlapping tick) stays.
 */
export function showsWork(body: string): boolean {
  return body.startsWith("👀 ");
}

/** The one line on what the agent does now; the poller edits the comment only when it reads differently. */
export function activityLine(activity: AgentActivity): string {
  const summary = activity.summary ? agentLine(activity.summary, 120) : "";
  // A command or a path, shown as code: no markup, no mention, one line, bounded.
  const flat = activity.detail?.replace(/[`\s]+/g, " ").trim() ?? "";
  const detail = flat ? `\`${flat.length > 100 ? `${flat.slice(0, 99)}…` : flat}\`` : "";
  return defuseOpenHandsMention(`**Now:** ${[summary, detail].filter(Boolean).join(" · ")}`);
}

/** An invalid `.github/openhands.yml` is ignored, and the people relying on it are told why. */
function configNote({ task }: View): string {
  const problem = task.request.settings.configProblem;
  return problem ? `\n\n⚠️ \`.github/openhands.yml\` was ignored (${problem}); the defaults apply.` : "";
}

export function queuedComment(view: View & { reason: WaitReason; retryAt?: Date }): string {
  const when = view.retryAt ? ` after ${isoMinute(view.retryAt)}` : "";
  return `⏳ **OpenHands could not start yet** (${waitWords(view.reason)}). The request is queued and will be retried automatically${when}.${footer(view)}`;
}

/** Why a request waits, as the ⏳ comment and `/status` say it. */
export function waitWords(reason: WaitReason): string {
  switch (reason.kind) {
    case "thread_busy":
      return "waiting for the request already running on this thread to finish";
    case "no_free_slot": {
      const verb = reason.running === 1 ? "is" : "are";
      return `waiting for a free slot: ${conversations(reason.running)} ${verb} running, and the limit is ${reason.limit}`;
    }
    case "hourly_limit": {
      const where = reason.scope === "thread" ? "on this thread" : "for this installation";
      return `${conversations(reason.limit)} were started ${where} in the last hour, which is the limit`;
    }
    case "upstream":
      return troubleWords(reason.trouble);
  }
}

export function troubleWords(trouble: UpstreamTrouble): string {
  switch (trouble.service) {
    case "openhands":
      return trouble.detail;
    case "github":
      // GitHub's own message can quote the request; the status says enough.
      return trouble.refusal ?? `GitHub answered ${trouble.status ?? "with a network error"}`;
    case "unknown":
      return "an unexpected error";
  }
}

/** Why a task failed, as the ❌ comment, `/status` and the thread's next request say it. */
export function failureWords(reason: FailureReason): string {
  switch (reason.kind) {
    case "start_errored":
      return reason.detail?.trim() || "OpenHands could not start the conversation";
    case "start_refused":
      return `OpenHands could not start it: ${reason.detail}`;
    case "start_rejected":
      return `OpenHands refused to start it (${troubleWords(reason.trouble)})`;
    case "start_attempts_spent":
      return `it could not be started after ${reason.attempts} attempts (${troubleWords(reason.trouble)})`;
    case "agent_token_refused":
      return reason.detail;
    case "start_unknown":
      return "OpenHands has no record of the start of this conversation";
    case "conversation_gone":
      return "the conversation no longer exists on OpenHands";
    case "sandbox_failed":
      return "the OpenHands sandbox failed";
    case "sandbox_gone":
      return "the OpenHands sandbox is gone before the agent finished";
    case "sandbox_not_back":
      return "the OpenHands sandbox was paused before the agent finished, and did not come back";
    case "agent": {
      const what = reason.status === "error" ? "the agent run ended with an error" : "the agent got stuck in a loop";
      const why = reason.resumed ? `${what}, after OpenHands paused its sandbox and this App resumed it` : what;
      // The service's error detail may quote what the agent or its model said: defused like the agent's text.
      return reason.detail ? `${why} (${agentLine(reason.detail, 300)})` : why;
    }
  }
}

/** What a run took, as the service accounts it: "12 min · $0.87 · 421k tokens · `claude-sonnet-4-5`". */
export function runFigures(durationMs: number | undefined, metrics: RunMetrics | undefined): string {
  const parts = durationMs === undefined ? [] : [formatDuration(durationMs)];
  if (metrics?.costUsd !== undefined) parts.push(formatCost(metrics.costUsd));
  if (metrics?.tokens !== undefined) parts.push(`${formatCount(metrics.tokens)} tokens`);
  // The service's label for the model, kept to the characters such labels use.
  const model = metrics?.model?.replace(/[^\w.:/+-]/g, "").slice(0, 60);
  if (model) parts.push(`\`${model}\``);
  return parts.join(" · ");
}

export function succeededComment(
  view: View & {
    summary: string;
    durationMs: number;
    produced: Produced;
    metrics?: RunMetrics;
    summaryUnread?: boolean;
  },
): string {
  const message = view.summaryUnread
    ? `_OpenHands would not give the agent's final message; it is in the [conversation](${view.link})._`
    : view.produced.kind === "review"
      ? "_The agent's findings are in the review._"
      : view.summary.trim()
        ? agentMessage("The agent's final message", view.summary, view.link)
        : "_The agent finished without a final message. The conversation has the details._";
  const figures = `Finished in ${runFigures(view.durationMs, view.metrics)}.`;
  return `${producedLines(view.task, view.produced)}\n\n${figures}\n\n${message}${footer(view)}`;
}

export function failedComment(
  view: View & { reason: FailureReason; durationMs: number; summary?: string; metrics?: RunMetrics },
): string {
  const last = view.summary?.trim() ? `\n\n${agentMessage("The agent's last message", view.summary, view.link)}` : "";
  const figures = view.metrics ? ` (${runFigures(undefined, view.metrics)})` : "";
  const headline = `❌ **OpenHands could not complete this request** after ${formatDuration(view.durationMs)}${figures}`;
  return `${headline}: ${failureWords(view.reason)}.${last}\n\nYou can look at the [conversation](${view.link}) and ask again.${footer(view)}`;
}

/** The first thing a finished comment says: what the run left on GitHub. */
function producedLines(task: Task, produced: Produced): string {
  switch (produced.kind) {
    case "review": {
      const count = produced.inline + produced.folded;
      const comments = produced.fromMessage ? "the review" : count === 1 ? "1 comment" : `${count} comments`;
      const on = produced.commit ? ` on commit ${shortSha(produced.commit)}` : "";
      const moved = produced.movedTo
        ? ` The pull request has moved on to ${shortSha(produced.movedTo)} since: those commits are not in this review.`
        : "";
      return `✅ **Reviewed: [${comments}](${produced.url})**${on}. OpenHands changed nothing.${moved}`;
    }
    case "none":
      return "✅ **OpenHands finished: no changes.** The agent did not open or update a pull request.";
    case "pushed":
      return `✅ **OpenHands pushed to this pull request** (branch \`${produced.branch.replace(/[^\w./-]/g, "")}\`).`;
    case "pull_requests": {
      const { pulls } = produced;
      const opened = (pull: PullRequestSummary) => !(Date.parse(pull.createdAt) < Date.parse(task.createdAt));
      if (pulls.length === 1) {
        const [pull] = pulls as [PullRequestSummary];
        const verb = opened(pull) ? "opened a pull request" : "pushed to a pull request";
        return `✅ **OpenHands ${verb}:** ${pullLink(task, pull)}`;
      }
      const lines = pulls.map((pull) => `- ${opened(pull) ? "opened" : "pushed to"} ${pullLink(task, pull)}`);
      return `✅ **OpenHands finished with ${pulls.length} pull requests:**\n\n${lines.join("\n")}`;
    }
  }
}

/** "#42 Fix the parser" (with its repository when it is another one), linked, and its state when not plainly open. */
function pullLink(task: Task, pull: PullRequestSummary): string {
  const where = pull.repository.toLowerCase() === task.request.repository.toLowerCase() ? "" : pull.repository;
  // The agent wrote the title: defused like its other text, its brackets escaped, so unable to close the link.
  const title = agentLine(pull.title, 120);
  const state = pull.merged ? " (merged)" : pull.state === "closed" ? " (closed)" : pull.draft ? " (draft)" : "";
  return `[${where}#${pull.number}${title ? ` ${title}` : ""}](${pull.url})${state}`;
}

/** The agent's words, quoted as its own; folded when long, so the result stays on top. */
function agentMessage(label: string, text: string, link: string): string {
  const quoted = quoteAgentText(text, { maxChars: MAX_AGENT_CHARS, link });
  if (text.length <= FOLD_AFTER_CHARS && text.split("\n").length <= 12) return `${label}:\n\n${quoted}`;
  return `<details><summary>${label}</summary>\n\n${quoted}\n\n</details>`;
}

/** The body of the review the App posts for the agent: its summary, and the comments that have no line of their own. */
export function reviewBody(view: {
  task: Task;
  link: string;
  durationMs: number;
  metrics?: RunMetrics;
  summary: string;
  folded: readonly ReviewComment[];
  unreadable: number;
  counts: { inline: number; folded: number };
}): string {
  const figures = runFigures(view.durationMs, view.metrics);
  const parts = [
    `**OpenHands reviewed this pull request** (${figures}) · [conversation](${view.link})`,
    view.summary.trim() ? quoteAgentText(view.summary, { maxChars: MAX_AGENT_CHARS, link: view.link }) : "",
  ];
  if (view.folded.length) {
    const items = view.folded.map((comment) => {
      const lines = comment.startLine ? `lines ${comment.startLine}-${comment.line}` : `line ${comment.line}`;
      const side = comment.side === "LEFT" ? " (before the change)" : "";
      const where = `${codeSpan(comment.path.slice(0, 300))}, ${lines}${side}`;
      return `${where}:\n\n${quoteAgentText(comment.body, { maxChars: 2_000, link: view.link })}`;
    });
    parts.push(
      `<details><summary>${view.folded.length} more, not on lines of this diff</summary>\n\n${items.join("\n\n")}\n\n</details>`,
    );
  }
  if (view.unreadable)
    parts.push(`_${view.unreadable} of the agent's comments could not be read; see the conversation._`);
  const asked = `<sub>${askedBy(view.task.request)}</sub>`;
  return `${parts.filter(Boolean).join("\n\n")}\n\n${asked}\n${reviewMarker(view.task.id, view.counts)}`;
}

/** One inline comment of the review: the agent's words, defused as everywhere. */
export function reviewCommentBody(text: string, link: string): string {
  return quoteAgentText(text, { maxChars: 4_000, link });
}

export function timedOutComment(view: View & { phase: "start" | "run"; durationMs: number }): string {
  const what = view.phase === "start" ? "did not start" : "did not finish";
  return `⌛ **OpenHands ${what} within ${formatDuration(view.durationMs)}**, so this App stopped waiting. The [conversation](${view.link}) may still have progress; ask again to retry.${footer(view)}`;
}

export function needsInputComment(view: View): string {
  return `✋ **OpenHands needs your input.** The agent is waiting for a confirmation: open the [conversation](${view.link}) to approve or reject its next step. This comment will be updated when it finishes.${footer(view)}`;
}

/** A commit as GitHub shows it in text, seven characters, as code; only hex digits, whatever the record holds. */
function shortSha(sha: string): string {
  return `\`${sha.slice(0, 7).replace(/[^0-9a-f]/gi, "")}\``;
}

export function stoppedComment(view: View & { by: string }): string {
  const superseded = view.task.supersededBy;
  if (superseded)
    return `⏹️ **Superseded** by ${shortSha(superseded)}: the pull request has new commits, so this review of an older head was stopped. What it found so far stays in the [conversation](${view.link}).${footer(view)}`;
  return `⏹️ **Stopped** by @${view.by}. The agent's sandbox is paused; what it did so far stays in the [conversation](${view.link}).${footer(view)}`;
}

const STATUS_WORDS: Record<Task["status"], string> = {
  queued: "⏳ queued",
  starting: "🚀 starting",
  running: "👀 working",
  needs_input: "✋ needs your input",
  succeeded: "✅ finished",
  failed: "❌ failed",
  timed_out: "⌛ timed out",
  rejected: "🚫 not started",
  stopped: "⏹️ stopped",
  forwarded: "📨 sent to the running conversation",
  answered: "💬 command answered",
};

/** A task as `@openhands status` lists it; `metrics` is what a running one has cost so far. */
export type StatusLine = View & { metrics?: RunMetrics };

export function statusReply(tasks: readonly StatusLine[], now: Date): string {
  if (tasks.length === 0) return "No OpenHands task on this thread in the last day.";
  const lines = tasks.map(({ task, link, metrics }) => {
    const age = formatDuration(now.getTime() - Date.parse(task.createdAt));
    const cost = metrics ? ` · ${runFigures(undefined, metrics)} so far` : "";
    return `- ${STATUS_WORDS[task.status]}: asked by @${task.request.requester} ${age} ago${cost} · [conversation](${link})`;
  });
  return `OpenHands tasks on this thread, newest first:\n\n${lines.join("\n")}`;
}

export function helpReply(view: {
  words: TriggerWords & { reviewLabel: string; autoReview?: AutoReview; continueDays?: number };
  maxStartsPerThreadPerHour: number;
}): string {
  const { mention, label, reviewLabel } = view.words;
  return [
    "**OpenHands** hands work on this repository to an AI software agent on [OpenHands Cloud](https://app.all-hands.dev).",
    "",
    `- Mention \`${mention}\` with a request in an issue, a pull request, a review or an inline review comment, or open an issue or PR whose description mentions it, or add the \`${label}\` label. The agent works on a new branch and opens a draft PR (on an issue), or pushes to the PR's branch (on a PR), and its final message is posted here.`,
    `- On a pull request, \`${mention} review\` (optionally with what to look at most: \`${mention} review the error handling\`) or the \`${reviewLabel}\` label asks for a review instead: the agent changes nothing, and its findings come as a pull-request review with comments on the lines.`,
    ...automaticReviewLine(view.words.autoReview),
    ...continueLine(mention, view.words.continueDays),
    "- Only people with write, maintain or admin access can ask; bots cannot.",
    `- At most ${view.maxStartsPerThreadPerHour} requests per thread per hour.`,
    `- ${openHandsAppLine(view.words)}`,
    "",
    "Commands (alone after the mention): `stop` stops the active task on this thread, `status` lists the tasks on this thread, `help` shows this.",
  ].join("\n");
}

/** How a request after an ended run goes on with its conversation (`continue_days`), when the repository lets it. */
function continueLine(mention: string, days: number | undefined): string[] {
  if (!days) return [];
  const within = days === 1 ? "a day" : `${days} days`;
  return [
    `- A request on a thread whose last conversation ended less than ${within} ago goes on with that conversation, so the agent remembers its work; \`${mention} new\` followed by the request starts a new one.`,
  ];
}

/** The reviews this repository asks for on its own (`review:` in its config), when it asks for any. */
function automaticReviewLine(auto: AutoReview | undefined): string[] {
  if (!auto || !(auto.onOpen || auto.onPush)) return [];
  const when = [
    auto.onOpen && "when it is opened or marked ready for review",
    auto.onPush && "after each push (the new commits only)",
  ]
    .filter(Boolean)
    .join(", and ");
  const drafts = auto.drafts ? ", drafts included" : "";
  return [`- This repository has each pull request reviewed ${when}${drafts}, if its author has write access.`];
}

/** What OpenHands' own GitHub App does beside this one, so that nobody asks both by surprise. */
function openHandsAppLine(words: TriggerWords): string {
  const both = [mentionCollides(words.mention) && "mention", labelCollides(words.label) && "label"].filter(Boolean);
  if (both.length)
    return `OpenHands' own GitHub App answers this ${both.join(" and ")} too: someone with an OpenHands account who asks gets a second agent from it, on their own account.`;
  return `\`${OPENHANDS_APP_MENTION}\` and the \`${OPENHANDS_APP_LABEL}\` label ask OpenHands' own GitHub App instead, where it is installed: a separate agent, on your own OpenHands account.`;
}

/** The tracking comment for a task still going, as its status reads now (a note may follow). */
export function currentComment(view: View): string {
  return view.task.status === "needs_input" ? needsInputComment(view) : workingComment(view);
}

export function stopDidNotTakeNote({ by, link }: { by: string; link: string }): string {
  return `\n\n⚠️ @${by} asked to stop, but OpenHands did not pause the sandbox and the agent is still working. It can be stopped from the [conversation](${link}); this comment will still show the result.`;
}

export function followUpNote(view: View & { from: string; url: string }): string {
  return `\n\n📨 A follow-up from @${view.from} (${view.url}) was sent to this conversation.`;
}

/** Marks the reply to one person on one thread, so that it is said at most once a day. */

export function notAllowedReply(login: string, author?: string): string {
  const whose = author ? ` The comment you edited was written by @${author}, and both of you need it.` : "";
  return `Sorry @${login}, only people with write, maintain or admin access to this repository can ask OpenHands to work on it.${whose}\n${notAllowedMarker(login)}`;
}

function isoMinute(date: Date): string {
  return date.toISOString().replace(/:\d{2}\.\d{3}Z$/, "Z");
}

export function forkNotSupportedReply(login: string): string {
  return `Sorry @${login}, OpenHands can only work on pull requests whose branch lives in this repository, not in a fork.`;
}

function conversations(n: number): string {
  return n === 1 ? "1 conversation" : `${n} conversations`;
}

function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

function formatCost(usd: number): string {
  return usd > 0 && usd < 0.01 ? "< $0.01" : `$${usd.toFixed(2)}`;
}

function formatCount(n: number): string {
  if (n < 1_000) return String(Math.round(n));
  if (n < 1_000_000) return `${Math.round(n / 1_000)}k`;
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, "")}M`;
}
