import { defuseOpenHandsMention } from "../openhands/github-app";
import { sanitize } from "../prompt/sanitize";
import { MENTION_BOUNDARY } from "../trigger/mention";

/**
 * What the agent writes is posted under the App's name, on a thread other
 * people read, and the agent read text anyone could write: it is posted
 * defused. Mentions cannot ping people or wake other bots, HTML (comments,
 * hidden markup, a `</details>` that would close the App's own) shows as text,
 * headings cannot pass for the App's status lines, and the length is bounded.
 * Code keeps its text: GitHub shows it literally and pings nobody from it,
 * but OpenHands' own App reads code too, so `@openhands` is broken everywhere.
 */

/** A login or a team (`@org/team`) where GitHub would see a mention. */
const MENTION = new RegExp(`${MENTION_BOUNDARY}@([A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9][\\w.-]*)?)`, "g");
/** A fence opens code that runs to a closing fence of the same character, at least as long, or to the end. */
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** A code span: a run of backticks, then text without a blank line, then the same run. */
const CODE_SPAN = /(`+)(?!`)[^\n]*?[^`\n]\1(?!`)|(`+)(?!`)[^`\n]\2(?!`)/g;
const ATX_HEADING = /^( {0,3})#{1,6}(?:[ \t]+(.*?))?[ \t#]*$/;
/** A line of `=` or `-` under text makes that text a heading (and `---` alone a rule). */
const SETEXT_UNDERLINE = /^( {0,3})([=-])(?=[=-]*[ \t]*$)/;

/** A mention shown as code: readable, and GitHub notifies nobody. */
function defuseMentions(prose: string): string {
  return prose.replace(MENTION, "`@$1`");
}

function defuseProse(line: string): string {
  const heading = line.match(ATX_HEADING);
  const text = heading
    ? `${heading[1]}${heading[2] ? `**${heading[2]}**` : ""}`
    : line.replace(SETEXT_UNDERLINE, "$1\\$2");
  // Outside code spans, "<" starts no tag; inside one it is shown as is.
  let out = "";
  let last = 0;
  for (const span of text.matchAll(CODE_SPAN)) {
    out += defuseMentions(text.slice(last, span.index).replaceAll("<", "&lt;")) + span[0];
    last = span.index + span[0].length;
  }
  return out + defuseMentions(text.slice(last).replaceAll("<", "&lt;"));
}

/** Each line as it is safe to post; fenced code is left alone. */
function defuseLines(lines: readonly string[]): string[] {
  let fence: string | undefined;
  return lines.map((line) => {
    const opener = line.match(FENCE)?.[1];
    if (fence !== undefined) {
      if (opener && opener[0] === fence[0] && opener.length >= fence.length && line.trim() === opener)
        fence = undefined;
      return line;
    }
    if (opener) {
      fence = opener;
      return line;
    }
    return defuseProse(line);
  });
}

/**
 * The agent's text, defused, cut to `maxChars` with a pointer to the full text,
 * and quoted line by line: whatever it says reads as the agent's, never as the
 * App's, and an unclosed fence ends with the quote instead of swallowing the
 * rest of the comment.
 */
export function quoteAgentText(text: string, options: { maxChars: number; link: string }): string {
  const clean = sanitize(text);
  const cut = clean.length > options.maxChars;
  const lines = defuseLines((cut ? clean.slice(0, options.maxChars) : clean).split("\n"));
  if (cut) lines.push("", `_… cut here: the full text is in the [conversation](${options.link})._`);
  return defuseOpenHandsMention(lines.map((line) => (line ? `> ${line}` : ">")).join("\n"));
}

/** One line of the agent's text (an error detail, what it is doing now), defused and bounded. */
export function agentLine(text: string, maxChars: number): string {
  const line = sanitize(text).replace(/\s+/g, " ").trim();
  const cut = line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
  // A line has no room for code blocks: the whole of it is prose, its backticks included.
  // Nor can it start a quote, a list or a heading of its own.
  return defuseOpenHandsMention(defuseProse(cut)).replace(/^([ \t]*)([>#=]|[-*+](?=\s)|\d+[.)](?=\s))/, "$1\\$2");
}
