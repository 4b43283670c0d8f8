import { htmlElements } from "../markdown/elements";
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

// GitHub drops scripts and styles with what they hold.
const SCRIPT = htmlElements("script", "style");

// An entity GitHub turns into an invisible character: `&#8203;`, `&#xE0041;` (a tag character), `&zwj;`.
const NUMERIC_ENTITY = /&#(?:[xX]([0-9a-fA-F]{1,6})|(\d{1,7}));/g;
const INVISIBLE_NAMED_ENTITY =
  /&(?:zwj|zwnj|shy|lrm|rlm|ZeroWidthSpace|NoBreak|ApplyFunction|af|InvisibleTimes|it|InvisibleComma|ic|NegativeVeryThinSpace|NegativeThinSpace|NegativeMediumSpace|NegativeThickSpace);/g;

const INVISIBLE_ONE = /^\p{Default_Ignorable_Code_Point}$/u;

function dropInvisibleEntity(entity: string, hex: string | undefined, decimal: string | undefined): string {
  const codePoint = hex ? Number.parseInt(hex, 16) : Number(decimal);
  return codePoint <= 0x10ffff && INVISIBLE_ONE.test(String.fromCodePoint(codePoint)) ? "" : entity;
}

/** Passes over nested hidden markup (`<!<details>--`) before what is left of it is made harmless. */
const MAX_PASSES = 4;

/**
 * Hidden markup and fold tags removed to a fixed point: removing one can join the pieces of
 * another (`<!<details>--` becomes `<!--`). Each pass is linear; nesting deeper than the passes
 * is nobody's real text, and what remains of it opens nothing.
 */
function removeHidden(text: string): string {
  let current = text;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const next = removeHiddenMarkdown(current).replace(SCRIPT, "").replace(FOLD_TAG, unfold);
    if (next === current) return current;
    current = next;
  }
  return current.replace(/<(?=!--|\/?(?:details|summary|script|style)\b)/gi, "&lt;");
}

/**
 * Text from GitHub reaches the agent as context, and anyone who can comment can
 * write it. Remove what a human reader of the issue would not see: HTML comments,
 * link-reference definitions, zero-width and bidirectional control characters (also
 * written as entities), scripts and styles, image alt text and link titles, where
 * instructions are easily hidden.
 */
export function sanitize(text: string | null | undefined): string {
  if (!text) return "";
  return (
    removeHidden(
      text
        .replace(/\r\n?/g, "\n")
        .replace(INVISIBLE, "")
        .replace(NUMERIC_ENTITY, dropInvisibleEntity)
        .replace(INVISIBLE_NAMED_ENTITY, ""),
    )
      .split("\n")
      // Line by line: a trailing-space pattern (`/[^\S\n]+$/gm`) retries from every space of a run that
      // does not end its line, quadratic in the run, and anyone who can open an issue writes the run.
      .map((line) => line.trimEnd())
      .join("\n")
      .trim()
  );
}

/**
 * The part of a text that can matter for a budget of `maxChars`, taken before any pattern
 * reads it: sanitizing removes hidden text, so twice the budget and some, never the whole
 * of a 65,536-character body for a 300-character title.
 */
export function headFor(text: string, maxChars: number): string {
  const room = 2 * maxChars + 1_000;
  return text.length > room ? text.slice(0, room) : text;
}

/** Cuts at a size budget and says how much was left out. */
export function bound(text: string, maxChars: number, leftBefore = 0): string {
  if (text.length <= maxChars && leftBefore === 0) return text;
  const left = Math.max(0, text.length - maxChars) + leftBefore;
  return `${text.slice(0, maxChars)}\n[… ${left} more characters left out]`;
}
