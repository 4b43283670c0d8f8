/**
 * Markdown that GitHub renders as nothing. Anyone who can comment can write it
 * and no reader sees it, so it may neither ask the App for work nor reach the
 * agent: both the mention check and the prompt remove it first.
 */

const HTML_COMMENT = /<!--[\s\S]*?(-->|$)/g;

// A link-reference definition (`[label]: destination "title"`) only defines a
// target; `[//]: # (note)` is the usual way to write a comment in Markdown.
// Label and title may run over several lines, but not over a blank one.
const NEXT_LINE = String.raw`\n(?![ \t]*\n)`;
const LABEL = String.raw`\[(?:[^\[\]\\\n]|\\.|${NEXT_LINE})+\]`;
const DESTINATION = String.raw`(?:<[^<>\n]*>|[^\s<]\S*)`;
const TITLE = String.raw`(?:"(?:[^"\\\n]|\\.|${NEXT_LINE})*"|'(?:[^'\\\n]|\\.|${NEXT_LINE})*'|\((?:[^()\\\n]|\\.|${NEXT_LINE})*\))`;
// Inside a blockquote or a list item a definition is just as invisible.
const CONTAINERS = String.raw`(?:>[ \t]*|(?:[-*+]|\d{1,9}[.)])[ \t]+)*`;
// Every whitespace run is written so that it can split only one way: a body of
// 65,000 spaces must not cost quadratic time.
const LINK_REFERENCE_DEFINITION = new RegExp(
  String.raw`^[ \t]*${CONTAINERS}${LABEL}:[ \t]*(?:\n[ \t]*)?${DESTINATION}(?:(?:[ \t]+(?:\n[ \t]*)?|\n[ \t]*)${TITLE})?[ \t]*$\n?`,
  "gm",
);

/**
 * Also removes a definition-shaped line right after a paragraph line, which
 * GitHub shows as text: losing such a rare line costs less than letting a
 * hidden one through.
 */
export function removeHiddenMarkdown(text: string): string {
  return text.replace(HTML_COMMENT, "").replace(LINK_REFERENCE_DEFINITION, "");
}
