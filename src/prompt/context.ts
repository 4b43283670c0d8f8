import type { FailingCheck } from "../github/failing-check";
import { clean, fenced } from "./fence";

/** What the thread says besides the request, gathered once when the request is accepted. */
export interface ThreadContext {
  labels?: string[];
  /** Earlier comments, oldest first, written before the request. */
  discussion?: { author: string; body: string; at: string }[];
  /** Comments that exist but did not fit, or came after the request. */
  omitted?: number;
  pullRequest?: { base: string; head: string; files: string[]; moreFiles: number };
  /** The inline review thread the request sits in, oldest first. */
  reviewThread?: { author: string; body: string }[];
  /** The checks that failed on the pull request's head when the request was made. */
  checks?: { head: string; failing: FailingCheck[] };
}

const DISCUSSION_BUDGET = 8_000;
const COMMENT_CHARS = 1_500;
const FILES_SHOWN = 100;

/**
 * Keeps the newest comments that fit the budget, since the latest turns of a
 * discussion matter most, and says how many were left out.
 */
export function boundDiscussion(
  comments: readonly { author: string; body: string; at: string }[],
  budget = DISCUSSION_BUDGET,
): { kept: { author: string; body: string; at: string }[]; omitted: number } {
  const kept: { author: string; body: string; at: string }[] = [];
  let used = 0;
  for (const comment of [...comments].reverse()) {
    const body = comment.body.length > COMMENT_CHARS ? `${comment.body.slice(0, COMMENT_CHARS)} [… cut]` : comment.body;
    if (used + body.length > budget) break;
    used += body.length;
    kept.unshift({ ...comment, body });
  }
  return { kept, omitted: comments.length - kept.length };
}

/**
 * The context sections of a prompt. Each comment is fenced on its own with its
 * author, so that no comment can start a line that passes for the next one.
 */
export function contextSections(context: ThreadContext | undefined, nonce: string): string[] {
  if (!context) return [];
  const lines: string[] = [];
  if (context.labels?.length) lines.push(`Labels: ${context.labels.map((l) => clean(l, 100)).join(", ")}`, "");
  if (context.pullRequest) {
    const { base, head, files, moreFiles } = context.pullRequest;
    lines.push(`Branches: \`${clean(head, 250)}\` into \`${clean(base, 250)}\`.`);
    if (files.length) {
      lines.push(
        `Changed files (${files.length + moreFiles}):`,
        ...files.slice(0, FILES_SHOWN).map((f) => `- ${clean(f, 500)}`),
        ...(moreFiles ? [`- … and ${moreFiles} more`] : []),
      );
    }
    lines.push("");
  }
  if (context.reviewThread?.length) {
    const body = context.reviewThread.flatMap((c) => [
      ...fenced("comment", nonce, [clean(c.body, COMMENT_CHARS)], { author: c.author }),
      "",
    ]);
    lines.push(...fenced("review_thread", nonce, body), "");
  }
  if (context.checks?.failing.length) lines.push(...checksSection(context.checks, nonce));
  if (context.discussion?.length || context.omitted) {
    const body: string[] = [];
    if (context.omitted) body.push(`[${context.omitted} earlier or later comments left out]`, "");
    for (const c of context.discussion ?? []) {
      body.push(...fenced("comment", nonce, [clean(c.body, COMMENT_CHARS + 20)], { author: c.author, at: c.at }), "");
    }
    lines.push(...fenced("discussion", nonce, body), "");
  }
  return lines;
}

/** The failing checks, fenced as the rest: their names, output, annotations and logs are written by the code under test. */
function checksSection({ head, failing }: NonNullable<ThreadContext["checks"]>, nonce: string): string[] {
  const body = failing.flatMap((check) => [
    ...fenced(
      "check",
      nonce,
      [
        `${clean(check.name, 200)}: ${clean(check.conclusion, 40)}${check.title ? `: ${clean(check.title, 300)}` : ""}`,
        ...(check.summary ? ["", clean(check.summary, 2_000)] : []),
        ...(check.annotations.length ? ["", "Annotations:"] : []),
        ...check.annotations.map(
          (a) =>
            `- ${clean(a.path, 300)}${a.line ? `:${a.line}` : ""} (${clean(a.level, 20)}): ${clean(a.message, 1_000)}`,
        ),
        ...(check.logTail ? ["", "The end of its log:", clean(check.logTail, 12_000)] : []),
      ],
      { name: check.name },
    ),
    "",
  ]);
  return [
    `Checks that failed on the pull request's head \`${head.slice(0, 7)}\` (${failing.length}): fix what they report if the request is about them.`,
    ...fenced("failing_checks", nonce, body),
    "",
  ];
}
