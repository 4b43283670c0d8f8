import { removeHiddenMarkdown } from "../markdown/hidden";

// Text folded in `<details>` is one click away on GitHub, and is mostly logs
// and long reproductions the work needs: it is kept. Only the tags go, so the
// agent reads it as ordinary context, fenced and distrusted like the rest,
// and not as a part set apart. A summary keeps its own line.
const FOLD_TAG = /<\/?(details|summary)\b(?:[^<>"']|"[^"]*"|'[^']*')*>/gi;

// Unicode's own list of characters that draw nothing: zero-width and bidi
// controls, variation selectors (U+FE00–FE0F, U+E0100–E01EF) and tag characters
// (U+E0000–E007F), which can spell out a whole hidden message, Hangul fillers.
// Emoji lose their variation selector and joiner, which changes nothing here.
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

function unfold(tag: string, _name: string, at: number, text: string): string {
  return /^<\/summary/i.test(tag) && text[at + tag.length] !== "\n" ? "\n" : "";
}

/**
 * Text from GitHub reaches the agent as context, and anyone who can comment can
 * write it. Remove what a human reader of the issue would not see: HTML comments,
 * link-reference definitions, zero-width and bidirectional control characters,
 * image alt text and link titles, where instructions are easily hidden.
 */
export function sanitize(text: string | null | undefined): string {
  if (!text) return "";
  return (
    removeHiddenMarkdown(text.replace(/\r\n?/g, "\n").replace(INVISIBLE, ""))
      .replace(FOLD_TAG, unfold)
      .split("\n")
      // Line by line: a trailing-space pattern (`/[^\S\n]+$/gm`) retries from every space of a run that
      // does not end its line, quadratic in the run, and anyone who can open an issue writes the run.
      .map((line) => line.trimEnd())
      .join("\n")
      .trim()
  );
}

/** Cuts at a size budget and says how much was left out. */
export function bound(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n[… ${text.length - maxChars} more characters left out]`;
}
