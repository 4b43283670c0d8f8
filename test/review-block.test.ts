import { describe, expect, it } from "vitest";
import { diffHunks, onTheDiff } from "../src/github/diff-hunks";
import { readReviewBlock } from "../src/openhands/review-block";
import { MAX_INLINE_COMMENTS, placeComments } from "../src/report/review";
import { DATE_PATCH as PATCH } from "./support/fixtures";

// A patch as GET /repos/{owner}/{repo}/pulls/{n}/files gives it: two hunks of src/date.ts.

describe("the lines of a diff a review comment may sit on", () => {
  const hunks = diffHunks(PATCH);

  it("reads each hunk's old and new line numbers: added and unchanged lines on the right, removed and unchanged on the left", () => {
    expect(hunks).toHaveLength(2);
    expect([...hunks[0]!.RIGHT]).toEqual([10, 11, 12, 13, 14, 15]);
    expect([...hunks[0]!.LEFT]).toEqual([10, 11, 12, 13, 14]);
    expect([...hunks[1]!.RIGHT]).toEqual([41, 42, 43]);
    expect([...hunks[1]!.LEFT]).toEqual([40, 41]);
  });

  it("takes a comment inside one hunk, and refuses one outside the hunks or spanning two", () => {
    expect(onTheDiff(hunks, "RIGHT", 12)).toBe(true);
    expect(onTheDiff(hunks, "RIGHT", 12, 11)).toBe(true);
    expect(onTheDiff(hunks, "LEFT", 11)).toBe(true);
    expect(onTheDiff(hunks, "RIGHT", 30)).toBe(false);
    expect(onTheDiff(hunks, "RIGHT", 42, 12)).toBe(false);
    expect(onTheDiff(hunks, "LEFT", 15)).toBe(false);
    expect(onTheDiff([], "RIGHT", 1)).toBe(false);
  });
});

const block = (json: unknown, info = "openhands-review") =>
  `Reviewed the parser.\n\n\`\`\`${info}\n${typeof json === "string" ? json : JSON.stringify(json, null, 2)}\n\`\`\``;

describe("the review the agent hands back", () => {
  it("reads the summary and the comments, with their defaults and their ranges", () => {
    const review = readReviewBlock(
      block({
        summary: "Leap years are right now; the formatter lacks a test.",
        comments: [
          { path: "src/date.ts", line: 12, start_line: 11, body: "Use a helper for `leap`." },
          { path: "./src/date.ts", line: 11, side: "LEFT", body: "This was the bug." },
          { path: "src/date.ts", line: 12, start_line: 12, body: "A range of one line is a line." },
        ],
      }),
    );
    expect(review).toEqual({
      summary: "Leap years are right now; the formatter lacks a test.",
      comments: [
        { path: "src/date.ts", line: 12, startLine: 11, side: "RIGHT", body: "Use a helper for `leap`." },
        { path: "src/date.ts", line: 11, side: "LEFT", body: "This was the bug." },
        { path: "src/date.ts", line: 12, side: "RIGHT", body: "A range of one line is a line." },
      ],
      unreadable: 0,
    });
  });

  it("counts entries that are not comments, and keeps the rest", () => {
    const review = readReviewBlock(
      block({
        summary: "s",
        comments: [
          { path: "a.ts", line: 0, body: "x" },
          { line: 3, body: "no path" },
          "text",
          { path: "a.ts", line: 2, body: "ok" },
        ],
      }),
    );
    expect(review?.comments.map((c) => c.body)).toEqual(["ok"]);
    expect(review?.unreadable).toBe(3);
  });

  it("takes the last block, even an unclosed one, and nothing from other fences", () => {
    const two = `${block({ summary: "first", comments: [] })}\n\nThen:\n\n${block({ summary: "last", comments: [] })}`;
    expect(readReviewBlock(two)?.summary).toBe("last");
    expect(readReviewBlock('```openhands-review\n{"summary": "cut short", "comments": []}')?.summary).toBe("cut short");
    expect(readReviewBlock(block({ summary: "json, not ours" }, "json"))).toBeUndefined();
    // A fence inside the block closes only with its own kind: a longer fence holds backticks.
    expect(readReviewBlock('````openhands-review\n{"summary": "has ``` inside", "comments": []}\n````')?.summary).toBe(
      "has ``` inside",
    );
  });

  it("gives nothing for a block that is not the contract's JSON", () => {
    expect(readReviewBlock("No block at all.")).toBeUndefined();
    expect(readReviewBlock(block("{not json"))).toBeUndefined();
    expect(readReviewBlock(block({ comments: [] }))).toBeUndefined();
    expect(readReviewBlock(block([1, 2]))).toBeUndefined();
  });
});

describe("where each comment goes", () => {
  const hunks = new Map([["src/date.ts", diffHunks(PATCH)]]);
  const comment = (path: string, line: number, extra: object = {}) => ({
    path,
    line,
    side: "RIGHT" as const,
    body: `${path}:${line}`,
    ...extra,
  });

  it("puts comments on the diff on their lines, and the others in the body", () => {
    const placed = placeComments(
      [
        comment("src/date.ts", 12),
        comment("src/date.ts", 30),
        comment("README.md", 1),
        comment("src/date.ts", 42, { startLine: 12 }),
      ],
      hunks,
    );
    expect(placed.inline.map((c) => c.body)).toEqual(["src/date.ts:12"]);
    expect(placed.folded.map((c) => c.body)).toEqual(["src/date.ts:30", "README.md:1", "src/date.ts:42"]);
  });

  it(`keeps at most ${MAX_INLINE_COMMENTS} on the lines`, () => {
    const many = Array.from({ length: 40 }, () => comment("src/date.ts", 12));
    const placed = placeComments(many, hunks);
    expect(placed.inline).toHaveLength(MAX_INLINE_COMMENTS);
    expect(placed.folded).toHaveLength(40 - MAX_INLINE_COMMENTS);
  });
});
