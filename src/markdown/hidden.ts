/**
 * Text that GitHub does not show to a reader of the thread: HTML comments,
 * link-reference definitions, image alt text, link titles. Anyone who can
 * comment can write it and nobody sees it, so it may neither ask the App for
 * work nor reach the agent: both the mention check and the prompt remove it.
 */

const HTML_COMMENT = /<!--[\s\S]*?(-->|$)/g;

// Label, alt text and title may run over several lines, but not over a blank one.
const NEXT_LINE = String.raw`\n(?![ \t]*\n)`;
const LABEL = String.raw`\[(?:[^\[\]\\\n]|\\.|${NEXT_LINE})+\]`;
const TITLE = String.raw`(?:"(?:[^"\\\n]|\\.|${NEXT_LINE})*"|'(?:[^'\\\n]|\\.|${NEXT_LINE})*'|\((?:[^()\\\n]|\\.|${NEXT_LINE})*\))`;

// A link-reference definition (`[label]: destination "title"`) only defines a
// target; `[//]: # (note)` is the usual way to write a comment in Markdown.
// Inside a blockquote or a list item it is just as invisible. Every whitespace
// run can split only one way, so a body of 65,000 spaces costs linear time.
const CONTAINERS = String.raw`(?:>[ \t]*|(?:[-*+]|\d{1,9}[.)])[ \t]+)*`;
const DEFINITION_DESTINATION = String.raw`(?:<[^<>\n]*>|[^\s<]\S*)`;
const LINK_REFERENCE_DEFINITION = new RegExp(
  String.raw`^[ \t]*${CONTAINERS}${LABEL}:[ \t]*(?:\n[ \t]*)?${DEFINITION_DESTINATION}(?:(?:[ \t]+(?:\n[ \t]*)?|\n[ \t]*)${TITLE})?[ \t]*$\n?`,
  "gm",
);

// Alt text may hold one level of brackets: `![a [b] c](x.png)`.
const ALT = String.raw`\[(?:[^\[\]\\\n]|\\.|${NEXT_LINE}|\[(?:[^\[\]\\\n]|\\.)*\])*\]`;
const INLINE_IMAGE_ALT = new RegExp(String.raw`!${ALT}\(`, "g");
// `![alt][ref]`, `![alt][]` and `![alt]` draw the image their definition names.
const REFERENCE_IMAGE = new RegExp(String.raw`!${ALT}(?:\[(?:[^\[\]\\\n]|\\.)*\]|(?!\())`, "g");
// A destination may hold balanced parentheses: `https://en.wikipedia.org/wiki/Foo_(bar)`.
const LINK_TITLE = new RegExp(String.raw`\]\(\s*(<[^<>\n]*>|(?:[^\s()<]|\([^\s()]*\))+)\s+${TITLE}\s*\)`, "g");
// Quoted attribute values may hold `>`; no `<` outside them, or one unclosed
// tag would make every later `<img` scan to the end of the text.
const IMG_TAG = /<img\b(?:[^<>"']|"[^"]*"|'[^']*')*>/gi;

/**
 * Some removals also take text that GitHub does show: a definition-shaped line
 * right after a paragraph line, `![word]` when no definition names `word`.
 * Losing such rare text costs less than letting hidden text through.
 */
export function removeHiddenMarkdown(text: string): string {
  return text
    .replace(HTML_COMMENT, "")
    .replace(LINK_REFERENCE_DEFINITION, "")
    .replace(INLINE_IMAGE_ALT, "![](")
    .replace(REFERENCE_IMAGE, "[image]")
    .replace(LINK_TITLE, "]($1)")
    .replace(IMG_TAG, "[image]");
}
