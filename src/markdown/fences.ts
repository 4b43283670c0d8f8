/**
 * Fenced code blocks as CommonMark opens and closes them: three or more backticks or tildes
 * (indented at most three spaces) open one, with an info string after them; a line of nothing
 * but the same character, at least as many, closes it. Read one line at a time, so that a
 * text of unclosed fences costs linear time.
 */
const OPENING = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const CLOSING = /^ {0,3}(`+|~+)[ \t]*$/;

/** The fence a line opens and its info string, if it opens one. */
export function fenceOpening(line: string): { fence: string; info: string } | undefined {
  const match = OPENING.exec(line);
  return match ? { fence: match[1]!, info: match[2]! } : undefined;
}

/** Whether a line closes the code block `fence` opened. */
export function closesFence(line: string, fence: string): boolean {
  const run = CLOSING.exec(line)?.[1];
  return run !== undefined && run[0] === fence[0] && run.length >= fence.length;
}
