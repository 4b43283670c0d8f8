import { escapeRegExp } from "../escape-regexp";
import { codeSpans } from "../markdown/code-spans";
import { htmlElements } from "../markdown/elements";
import { closesFence, fenceOpening } from "../markdown/fences";
import { removeHiddenMarkdown } from "../markdown/hidden";

/**
 * Finds the App's mention as a request, not as text that merely contains it.
 *
 * Code (fenced and indented blocks, `<pre>` and `<code>`, inline spans) and quotes
 * (with their lazy continuation lines) are removed first: someone quoting an earlier
 * request or showing a snippet is not asking again, and GitHub links no mention there.
 * So is what GitHub does not show at all: an invisible mention is nobody's request.
 */
function stripNonRequestText(body: string): string {
  return removeCodeSpans(
    removeCodeAndQuotes(removeHiddenMarkdown(body.replace(/\r\n?/g, "\n")).replace(HTML_CODE, "")),
  );
}

const HTML_CODE = htmlElements("pre", "code");
const BLANK = /^[ \t]*$/;
const QUOTED = /^ {0,3}>/;
const INDENTED = /^(?: {4}| {0,3}\t)/;
/** A line that starts a block of its own rather than continuing a quote's paragraph. */
const STARTS_BLOCK = /^ {0,3}(?:[-*+][ \t]|\d{1,9}[.)][ \t]|#{1,6}(?:[ \t]|$)|`{3}|~{3}|<|[-*_][ \t]*[-*_][ \t]*[-*_])/;

/**
 * Fenced code (to its closing fence or to the end: markdown/fences.ts),
 * indented code (after a blank line, as CommonMark has it), and quotes with the lines that
 * continue their paragraph without a `>`. A scan over the lines: a pattern that searches ahead
 * for the closing fence from every opening one costs time growing with the square of a text
 * made of unclosed fences.
 */
function removeCodeAndQuotes(text: string): string {
  const lines = text.split("\n");
  const kept: string[] = [];
  let fence: string | undefined;
  let previous: "blank" | "text" | "quote" | "code" = "blank";
  for (const [i, line] of lines.entries()) {
    if (fence !== undefined) {
      if (closesFence(line, fence)) {
        fence = undefined;
        previous = "blank";
      }
      kept.push("");
      continue;
    }
    const opening = i < lines.length - 1 ? fenceOpening(line)?.fence : undefined;
    if (opening !== undefined) {
      fence = opening;
      kept.push("");
    } else if (BLANK.test(line)) {
      kept.push(line);
      previous = "blank";
    } else if (QUOTED.test(line) || (previous === "quote" && !STARTS_BLOCK.test(line))) {
      kept.push("");
      previous = "quote";
    } else if (INDENTED.test(line) && (previous === "blank" || previous === "code")) {
      kept.push("");
      previous = "code";
    } else {
      kept.push(line);
      previous = "text";
    }
  }
  return kept.join("\n");
}

/** Inline code, taken out: a mention shown as code asks nothing. */
function removeCodeSpans(text: string): string {
  let out = "";
  let at = 0;
  for (const span of codeSpans(text)) {
    out += text.slice(at, span.start);
    at = span.end;
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
  // grows faster than the text on long runs of backticks.
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
