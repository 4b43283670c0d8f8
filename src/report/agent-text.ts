import { codeSpan, codeSpans, longestBacktickRun } from "../markdown/code-spans";
import { closesFence, fenceOpening } from "../markdown/fences";
import { defuseOpenHandsMention } from "../openhands/github-app";
import { headFor, sanitize } from "../prompt/sanitize";

/**
 * What the agent writes is posted under the App's name, on a thread other
 * people read, and the agent read text anyone could write: it is posted
 * defused. Rendered by GitHub, it pings nobody, wakes no other bot, draws no
 * HTML, makes no link, and cannot pass for the App's own lines.
 *
 * Defusing does not guess how GitHub will parse the agent's Markdown: it writes
 * Markdown whose parse it decides. Prose is written with every character that
 * could open markup (`<`, `[`, `` ` ``, `#`, `&`, `|`, …) backslash-escaped, so
 * only emphasis is left of it; what could be linked or notify someone (a word
 * with `@`, a URL, `www.`) is written as code; the agent's code spans are kept
 * as spans and its code blocks inside a fence longer than any backtick run in
 * them. Whatever the agent's text was, the result holds nothing else. Code keeps
 * its text, but OpenHands' own App reads code too, so `@openhands` is broken
 * everywhere.
 */

/** What can open code, a link, HTML, an entity or math anywhere on a line. `*`, `_` and `~` only emphasise. */
const MARKUP = /[\\`[\]<&$]/g;
/** What can open a heading, a quote, a fence or a setext underline at the start of a line or of a list item. */
const LINE_MARKUP = /^((?:[-+*]|\d{1,9}[.)])[ \t]+)*([#>=~-])/;
/**
 * Words GitHub links or notifies from after parsing: mentions, e-mail addresses, URLs and `www.` (GFM's
 * autolinks), references to another repository's issues (`owner/repo#5`), which cross-reference them.
 */
const LINKABLE = /@|:\/\/|www\.|mailto:|xmpp:|\/[\w.-]+#\d/i;
/** Where the link starts in a word: its scheme, `www.`. */
const URL_START = /[a-z][\w+.-]*:\/\/|www\.|mailto:|xmpp:/i;
/** What opens or ends a sentence around a word is not part of it. */
const LEADING_PUNCTUATION = /^[(["']+/;
const TRAILING_PUNCTUATION = /[.,;:!?'")\]]+$/;
/** A language name is all of an info string that is kept: the rest of it could be anything. */
const LANGUAGE = /^[\w+#.-]{1,30}$/;
/** Languages GitHub draws rather than shows as code: a diagram or a map may carry links. */
const DRAWN = new Set(["math", "mermaid", "geojson", "topojson", "stl"]);
const ATX_HEADING = /^#{1,6}(?:[ \t]+|$)/;

/** A word of prose: linkable words as code, every other one with its markup escaped. */
function plainWord(word: string): string {
  if (!LINKABLE.test(word)) return word.replace(MARKUP, "\\$&");
  const url = word.search(URL_START);
  const head =
    url > 0 && !LINKABLE.test(word.slice(0, url)) ? word.slice(0, url) : (word.match(LEADING_PUNCTUATION)?.[0] ?? "");
  const tail = word.slice(head.length).match(TRAILING_PUNCTUATION)?.[0] ?? "";
  const core = word.slice(head.length, word.length - tail.length);
  if (!core) return word.replace(MARKUP, "\\$&");
  return head.replace(MARKUP, "\\$&") + codeSpan(core) + tail.replace(MARKUP, "\\$&");
}

/** Prose without code: each word on its own, the spaces between kept. */
function plainProse(text: string): string {
  return text.replace(/[^ \t]+/g, plainWord);
}

/** A line that cannot open a block: its first character escaped when it could. */
function plainStart(line: string): string {
  return line.replace(LINE_MARKUP, "$1\\$2");
}

/** One line of prose, where the agent's code spans stay code and everything else is plain. */
function plainInline(line: string): string {
  const pieces: string[] = [];
  let at = 0;
  for (const span of codeSpans(line)) {
    pieces.push(plainProse(line.slice(at, span.start)), line.slice(span.start, span.end));
    at = span.end;
  }
  pieces.push(plainProse(line.slice(at)));
  // Two spans side by side would join their backticks into one run and end neither: a space keeps them apart.
  return pieces.reduce((out, piece) => (out.endsWith("`") && piece.startsWith("`") ? `${out} ${piece}` : out + piece));
}

/** A line of the agent's prose as posted: headings as bold text, never a heading, list, quote or block of HTML. */
function proseLine(line: string): string {
  // Leading spaces would make an indented code block, showing the escapes: GitHub drops them in prose anyway.
  const text = line.trimStart();
  const heading = text.match(ATX_HEADING);
  if (!heading) return plainStart(plainInline(text));
  const title = text.slice(heading[0].length).replace(/[ \t]+#+[ \t]*$/, "");
  return title ? `**${plainInline(title)}**` : "";
}

/** The agent's code block, in a fence that nothing inside can close. */
function codeBlock(info: string, content: readonly string[]): string[] {
  const fence = "`".repeat(Math.max(3, longestBacktickRun(content.join("\n")) + 1));
  const word = info.trim();
  const language = LANGUAGE.test(word) && !DRAWN.has(word.toLowerCase()) ? word : "";
  return [`${fence}${language}`, ...content, fence];
}

/** Each line as it is safe to post: code blocks re-fenced, everything else plain. */
function defuseLines(lines: readonly string[]): string[] {
  const out: string[] = [];
  let open: { fence: string; info: string; content: string[] } | undefined;
  for (const line of lines) {
    if (open) {
      if (closesFence(line, open.fence)) {
        out.push(...codeBlock(open.info, open.content));
        open = undefined;
      } else open.content.push(line);
      continue;
    }
    const opener = fenceOpening(line);
    if (opener) open = { ...opener, content: [] };
    else out.push(proseLine(line));
  }
  if (open) out.push(...codeBlock(open.info, open.content));
  return out;
}

/**
 * The App's marker (`<!-- openhands-github-app …`) is how it finds its own comments:
 * code may show a comment's opening, never carry it. Prose cannot: its `<` is escaped.
 */
function breakCommentOpenings(text: string): string {
  return text.replaceAll("<!--", "<!-\u200c-");
}

/**
 * The agent's text, defused, cut to `maxChars` with a pointer to the full text,
 * and quoted line by line: whatever it says reads as the agent's, never as the
 * App's, and an unclosed fence ends with the quote instead of swallowing the
 * rest of the comment.
 */
export function quoteAgentText(text: string, options: { maxChars: number; link: string }): string {
  const head = headFor(text, options.maxChars);
  const clean = sanitize(head);
  const cut = clean.length > options.maxChars || head.length < text.length;
  const lines = defuseLines((cut ? clean.slice(0, options.maxChars) : clean).split("\n"));
  if (cut) lines.push("", `_… cut here: the full text is in the [conversation](${options.link})._`);
  return defuseOpenHandsMention(breakCommentOpenings(lines.map((line) => (line ? `> ${line}` : ">")).join("\n")));
}

/**
 * One line of the agent's text (an error detail, what it is doing now, a pull
 * request's title), bounded and plain: even its backticks are only characters,
 * and it cannot start a quote, a list or a heading of its own.
 */
export function agentLine(text: string, maxChars: number): string {
  const line = sanitize(headFor(text, maxChars)).replace(/\s+/g, " ").trim();
  const cut = line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
  return plainStart(defuseOpenHandsMention(plainProse(cut)))
    .replace(/^[+*](?=\s|$)/, "\\$&")
    .replace(/^(\d+)([.)])(?=\s|$)/, "$1\\$2");
}
