import { escapeRegExp } from "../escape-regexp";
import { removeHiddenMarkdown } from "../markdown/hidden";

/**
 * Finds the App's mention as a request, not as text that merely contains it.
 *
 * Code (fenced blocks, inline spans) and quoted lines are removed first: someone
 * quoting an earlier request or showing a snippet is not asking again. So is
 * what GitHub does not show at all: an invisible mention is nobody's request.
 */
function stripNonRequestText(body: string): string {
  return removeCodeSpans(removeFencedBlocks(removeHiddenMarkdown(body.replace(/\r\n?/g, "\n")))).replace(
    /^ {0,3}>.*$/gm,
    "",
  );
}

/**
 * Fenced code blocks, each to its closing fence (the same character, at least as long) or to the end.
 * A scan over the lines: a pattern that searches ahead for the closing fence from every opening one
 * costs time growing with the square of a text made of unclosed fences (issue 20).
 */
function removeFencedBlocks(text: string): string {
  const lines = text.split("\n");
  const kept: string[] = [];
  let fence: string | undefined;
  for (const [i, line] of lines.entries()) {
    if (fence !== undefined) {
      const closing = /^ {0,3}([`~]+)[ \t]*$/.exec(line)?.[1];
      if (closing?.startsWith(fence)) fence = undefined;
      continue;
    }
    const opening = i < lines.length - 1 ? /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1] : undefined;
    if (opening === undefined) kept.push(line);
    else {
      fence = opening;
      kept.push("");
    }
  }
  return kept.join("\n");
}

/** Inline code: a run of backticks to the next run of the same length, found in one pass over the runs. */
function removeCodeSpans(text: string): string {
  const runs = [...text.matchAll(/`+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  const nextOfSameLength: (number | undefined)[] = [];
  const seen = new Map<number, number>();
  for (let i = runs.length - 1; i >= 0; i--) {
    const length = runs[i]!.end - runs[i]!.start;
    nextOfSameLength[i] = seen.get(length);
    seen.set(length, i);
  }
  let out = "";
  let at = 0;
  for (let i = 0; i < runs.length; i++) {
    const closing = nextOfSameLength[i];
    if (closing === undefined) continue;
    out += text.slice(at, runs[i]!.start);
    at = runs[closing]!.end;
    i = closing;
  }
  return out + text.slice(at);
}

/**
 * What may not come right before the `@` of a mention: a word character, `@`, `.`, `/`
 * or `-` (an e-mail address, a URL). One rule for finding the App's mention, for the
 * webhook's pre-filter, and for defusing the mentions in the agent's text.
 */
export const MENTION_BOUNDARY = String.raw`(?<![\w@./-])`;

function mentionPattern(mention: string, flags: string): RegExp {
  // The App writes `@openhands` with a word joiner after the `@` (openhands/github-app.ts), so that OpenHands'
  // own App does not answer what it posts; a copy of it still asks this App. Not followed by a word character
  // or `-`: GitHub logins may contain `-` (`@openhands-agent`).
  const name = escapeRegExp(mention.replace(/^@/, ""));
  return new RegExp(`${MENTION_BOUNDARY}@\u2060?${name}(?![\\w-])`, flags);
}

export function containsMention(body: string | null | undefined, mention: string): boolean {
  if (!body) return false;
  // Most text never names the App: say so before the code-span and fence patterns, whose cost
  // grows faster than the text on long runs of backticks (issue 20).
  if (!body.toLowerCase().includes(mention.replace(/^@/, "").toLowerCase())) return false;
  return mentionPattern(mention, "i").test(stripNonRequestText(body));
}

/** The request text the agent receives: the comment without the mention itself. */
export function requestText(body: string, mention: string): string {
  return body
    .replace(mentionPattern(mention, "gi"), "")
    .replace(/^[ \t]*[,:;-][ \t]*/, "")
    .replace(/[ \t]{2,}/g, " ")
    .trim();
}
