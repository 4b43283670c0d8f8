import { isObject } from "../is-object";
import { closesFence, fenceOpening } from "../markdown/fences";

/**
 * The review the agent hands back: its final message ends with one fenced block whose info
 * string is `openhands-review`, holding `{"summary": "…", "comments": [{"path", "line",
 * "start_line"?, "side"?, "body"}]}`. The name and the fields are a contract with the prompt
 * (prompt/build.ts reviewExpectations) and with anyone who writes such a block by hand.
 */
export const REVIEW_BLOCK_INFO = "openhands-review";

/** The side of the diff a comment is on: the file after the change, or before it. */
export type DiffSide = "LEFT" | "RIGHT";

export interface ReviewComment {
  path: string;
  line: number;
  /** The first line of a comment over several lines; always before `line`. */
  startLine?: number;
  side: DiffSide;
  body: string;
}

export interface AgentReview {
  summary: string;
  comments: ReviewComment[];
  /** Entries of the block that are not a comment (no path, no line, no text): said in the review. */
  unreadable: number;
}

/** More than any review worth reading; the rest is left out rather than parsed. */
const MAX_BLOCK_CHARS = 200_000;
const MAX_COMMENTS = 100;

/** The review in the agent's final message, or undefined when it wrote no block that parses. */
export function readReviewBlock(message: string): AgentReview | undefined {
  const block = lastReviewBlock(message);
  if (block === undefined || block.length > MAX_BLOCK_CHARS) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(block);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || typeof parsed.summary !== "string") return undefined;
  const entries = Array.isArray(parsed.comments) ? parsed.comments.slice(0, MAX_COMMENTS) : [];
  const comments = entries.map(commentOf).filter((comment): comment is ReviewComment => comment !== undefined);
  return { summary: parsed.summary, comments, unreadable: entries.length - comments.length };
}

/** The text of the last `openhands-review` block, read line by line (linear time, as every fence here). */
function lastReviewBlock(message: string): string | undefined {
  let found: string | undefined;
  let open: { fence: string; ours: boolean; lines: string[] } | undefined;
  for (const line of message.split("\n")) {
    if (open) {
      if (closesFence(line, open.fence)) {
        if (open.ours) found = open.lines.join("\n");
        open = undefined;
      } else if (open.ours) open.lines.push(line);
      continue;
    }
    const opening = fenceOpening(line);
    if (opening) open = { fence: opening.fence, ours: opening.info.trim() === REVIEW_BLOCK_INFO, lines: [] };
  }
  // A block the agent did not close still ends its message.
  if (open?.ours) found = open.lines.join("\n");
  return found;
}

function commentOf(entry: unknown): ReviewComment | undefined {
  if (!isObject(entry)) return undefined;
  const { path, line, start_line: startLine, side, body } = entry;
  if (typeof path !== "string" || !path.trim() || typeof body !== "string" || !body.trim()) return undefined;
  if (!isLineNumber(line)) return undefined;
  return {
    path: path.trim().replace(/^\.?\//, ""),
    line,
    ...(isLineNumber(startLine) && startLine < line ? { startLine } : {}),
    side: side === "LEFT" ? "LEFT" : "RIGHT",
    body,
  };
}

function isLineNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value > 0;
}
