import { bound, neutralizeTags, sanitize } from "./sanitize";

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
}

const DISCUSSION_BUDGET = 8_000;
const COMMENT_CHARS = 1_500;
const FILES_SHOWN = 100;
export const CONTEXT_TAGS = ["discussion", "comment", "review_thread"] as const;

function clean(text: string, max: number, tags: readonly string[]): string {
  return bound(neutralizeTags(sanitize(text), tags), max);
}

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

/** The context sections of a prompt, each fenced as data. */
export function contextSections(context: ThreadContext | undefined, allTags: readonly string[]): string[] {
  if (!context) return [];
  const tags = [...allTags, ...CONTEXT_TAGS];
  const lines: string[] = [];
  if (context.labels?.length) lines.push(`Labels: ${context.labels.map((l) => clean(l, 100, tags)).join(", ")}`, "");
  if (context.pullRequest) {
    const { base, head, files, moreFiles } = context.pullRequest;
    lines.push(`Branches: \`${clean(head, 250, tags)}\` into \`${clean(base, 250, tags)}\`.`);
    if (files.length) {
      lines.push(
        `Changed files (${files.length + moreFiles}):`,
        ...files.slice(0, FILES_SHOWN).map((f) => `- ${clean(f, 500, tags)}`),
        ...(moreFiles ? [`- … and ${moreFiles} more`] : []),
      );
    }
    lines.push("");
  }
  if (context.reviewThread?.length) {
    lines.push("<review_thread>");
    for (const c of context.reviewThread) lines.push(`@${clean(c.author, 100, tags)}: ${clean(c.body, COMMENT_CHARS, tags)}`, "");
    lines.push("</review_thread>", "");
  }
  if (context.discussion?.length || context.omitted) {
    lines.push("<discussion>");
    if (context.omitted) lines.push(`[${context.omitted} earlier or later comments left out]`, "");
    for (const c of context.discussion ?? []) {
      lines.push(`<comment author="${clean(c.author, 100, tags)}" at="${c.at}">`, clean(c.body, COMMENT_CHARS + 20, tags), "</comment>", "");
    }
    lines.push("</discussion>", "");
  }
  return lines;
}
