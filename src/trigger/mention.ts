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
  return removeHiddenMarkdown(body.replace(/\r\n?/g, "\n"))
    .replace(/^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?(^ {0,3}\1[`~]*[ \t]*$|(?![\s\S]))/gm, "")
    .replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, "")
    .replace(/^ {0,3}>.*$/gm, "");
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
