import { removeHiddenMarkdown } from "../markdown/hidden";
import { DEFAULT_REPO_CONFIG } from "../repo-config/parse";

/**
 * Finds `@openhands` as a request, not as text that merely contains it.
 *
 * Code (fenced blocks, inline spans) and quoted lines are removed first: someone
 * quoting an earlier request or showing a snippet is not asking again. So is
 * what GitHub does not show at all: an invisible mention is nobody's request.
 */
export const DEFAULT_MENTION = DEFAULT_REPO_CONFIG.mention;

function stripNonRequestText(body: string): string {
  return removeHiddenMarkdown(body.replace(/\r\n?/g, "\n"))
    .replace(/^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?(^ {0,3}\1[`~]*[ \t]*$|(?![\s\S]))/gm, "")
    .replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, "")
    .replace(/^ {0,3}>.*$/gm, "");
}

function mentionPattern(mention: string, flags: string): RegExp {
  const escaped = mention.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // Not after a word character, `@`, `.` or `/` (e-mail addresses, URLs); not followed by
  // a word character or `-`, because GitHub logins may contain `-` (`@openhands-agent`).
  return new RegExp(`(?<![\\w@./-])${escaped}(?![\\w-])`, flags);
}

export function containsMention(body: string | null | undefined, mention = DEFAULT_MENTION): boolean {
  if (!body) return false;
  return mentionPattern(mention, "i").test(stripNonRequestText(body));
}

/** The request text the agent receives: the comment without the mention itself. */
export function requestText(body: string, mention = DEFAULT_MENTION): string {
  return body
    .replace(mentionPattern(mention, "gi"), "")
    .replace(/^[ \t]*[,:;-][ \t]*/, "")
    .replace(/[ \t]{2,}/g, " ")
    .trim();
}
