/** Where a code span starts and ends in a text: from its opening backtick run to the end of its closing one. */
export interface Span {
  start: number;
  end: number;
}

/**
 * The code spans of a text as CommonMark finds them: a run of backticks opens one that
 * the next run of the same length closes, and a run with no such successor is literal.
 * One pass over the runs, from the last one back, so that a text made of unclosed runs
 * costs linear time (a pattern that searches ahead from every run costs its square).
 * Backslashes and the other inline rules are not weighed: callers use the spans to
 * take text out (the mention check) or to keep code as code (the report), and both
 * are safe when a span is found where GitHub would see none.
 */
export function codeSpans(text: string): Span[] {
  const runs = backtickRuns(text);
  const nextOfSameLength: (number | undefined)[] = [];
  const seen = new Map<number, number>();
  for (let i = runs.length - 1; i >= 0; i--) {
    const length = runs[i]!.end - runs[i]!.start;
    nextOfSameLength[i] = seen.get(length);
    seen.set(length, i);
  }
  const spans: Span[] = [];
  for (let i = 0; i < runs.length; i++) {
    const closing = nextOfSameLength[i];
    if (closing === undefined) continue;
    spans.push({ start: runs[i]!.start, end: runs[closing]!.end });
    i = closing;
  }
  return spans;
}

function backtickRuns(text: string): Span[] {
  const runs: Span[] = [];
  for (let at = text.indexOf("`"); at !== -1; ) {
    let end = at + 1;
    while (text.charCodeAt(end) === BACKTICK) end++;
    runs.push({ start: at, end });
    at = text.indexOf("`", end);
  }
  return runs;
}
const BACKTICK = 0x60;

/** The longest run of backticks in a text, so that a fence or span around it can be longer. */
export function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of backtickRuns(text)) longest = Math.max(longest, run.end - run.start);
  return longest;
}

/** `text` as one code span, whatever backticks it holds: GitHub shows it as it is, and links or pings nothing in it. */
export function codeSpan(text: string): string {
  const ticks = "`".repeat(longestBacktickRun(text) + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${ticks}${pad}${text}${pad}${ticks}`;
}
