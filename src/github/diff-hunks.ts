import type { DiffSide } from "../openhands/review-block";

/**
 * Where on a pull request's diff a review comment may sit. GitHub refuses a whole review (422,
 * "Pull request review thread line must be part of the diff") when one of its comments is on a
 * line outside the file's hunks, or starts in another hunk than it ends; a comment on the new
 * side (`RIGHT`) may be on an added or an unchanged line of a hunk, one on the old side (`LEFT`)
 * on a removed or an unchanged one.
 */
export interface Hunk {
  LEFT: Set<number>;
  RIGHT: Set<number>;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/** The hunks of one file's `patch`, as `GET /repos/{owner}/{repo}/pulls/{n}/files` gives it. */
export function diffHunks(patch: string): Hunk[] {
  const hunks: Hunk[] = [];
  let hunk: Hunk | undefined;
  let left = 0;
  let right = 0;
  const lines = patch.split("\n");
  // A patch that ends in a newline has no line after it.
  if (lines.at(-1) === "") lines.pop();
  for (const line of lines) {
    const header = HUNK_HEADER.exec(line);
    if (header) {
      hunk = { LEFT: new Set(), RIGHT: new Set() };
      hunks.push(hunk);
      left = Number(header[1]);
      right = Number(header[2]);
    } else if (hunk && line.startsWith("+")) {
      hunk.RIGHT.add(right++);
    } else if (hunk && line.startsWith("-")) {
      hunk.LEFT.add(left++);
    } else if (hunk && !line.startsWith("\\")) {
      // An unchanged line (a space, or nothing when the patch's last line lost its space).
      hunk.LEFT.add(left++);
      hunk.RIGHT.add(right++);
    }
  }
  return hunks;
}

/** Whether a comment on `line` (from `startLine`, when it spans lines) of one side sits inside one hunk. */
export function onTheDiff(hunks: readonly Hunk[], side: DiffSide, line: number, startLine?: number): boolean {
  return hunks.some((hunk) => hunk[side].has(line) && (startLine === undefined || hunk[side].has(startLine)));
}
