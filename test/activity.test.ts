import { beforeEach, describe, expect, it } from "vitest";
import { activityOf } from "../src/openhands/activity";
import type { OpenHandsEvent } from "../src/openhands/types";
import { ACTIVITY_EVERY_MS, activityDue } from "../src/poller/decide";
import { activityLine } from "../src/report/messages";
import { newTask, transition } from "../src/tasks/task";
import { sampleRequest } from "./support/fixtures";
import { issueCommentPayload, runCron } from "./support/harness";
import { rendered } from "./support/rendered";
import { quickScript, startWorld, type World } from "./support/world";

// What the agent is doing now, on its tracking comment while it runs.
const MIN = 60_000;

/** The SDK's ActionEvent for a terminal call, as its own fixture (tests/sdk/conversation/goal) has it. */
const terminal: OpenHandsEvent = {
  kind: "ActionEvent",
  source: "agent",
  tool_name: "terminal",
  action: {
    command: "cd /workspace/project && npm test -- --run parseDate",
    is_input: false,
    timeout: 120,
    reset: false,
    kind: "TerminalAction",
  },
  summary: "Run parseDate tests",
};
const editor: OpenHandsEvent = {
  kind: "ActionEvent",
  source: "agent",
  tool_name: "file_editor",
  action: {
    command: "str_replace",
    path: "/workspace/project/src/date.ts",
    old_str: "a",
    new_str: "b",
    kind: "FileEditorAction",
  },
  summary: "Fix timezone handling in parseDate",
};

describe("what the agent is doing", () => {
  it("is the model's summary and the command or file", () => {
    expect(activityLine(activityOf(terminal)!)).toBe(
      "**Now:** Run parseDate tests · `$ cd /workspace/project && npm test -- --run parseDate`",
    );
    expect(activityLine(activityOf(editor)!)).toBe(
      "**Now:** Fix timezone handling in parseDate · `editing src/date.ts`",
    );
  });

  it("shows paths inside the repository, which OpenHands clones into a folder of its name", () => {
    const inClone = {
      ...editor,
      action: { ...(editor.action as object), path: "/workspace/project/Hello-World/src/date.ts" },
    };
    expect(activityOf(inClone, "Hello-World")?.detail).toBe("editing src/date.ts");
    expect(activityOf(inClone, "Other")?.detail).toBe("editing Hello-World/src/date.ts");
    expect(activityOf(editor, "Hello-World")?.detail).toBe("editing src/date.ts");
  });

  it("does without a summary the model did not write, or the SDK's fallback to the raw arguments", () => {
    expect(activityOf({ ...terminal, summary: null })).toEqual({
      detail: "$ cd /workspace/project && npm test -- --run parseDate",
    });
    expect(
      activityOf({
        ...editor,
        summary: 'file_editor: {"command": "str_replace", "path": "/workspace/project/src/date.ts"}',
      }),
    ).toEqual({
      summary: undefined,
      detail: "editing src/date.ts",
    });
    expect(
      activityOf({ kind: "ActionEvent", source: "agent", tool_name: "create_pr", action: null, summary: null }),
    ).toEqual({
      detail: "using create_pr",
    });
  });

  it("is one bounded line that pings nobody and shows no markup", () => {
    const hostile = {
      ...terminal,
      summary: "# ✅ **OpenHands finished** @alice <b>done</b>\nsecond line",
      action: { kind: "TerminalAction", command: `echo \`@bob\` ${"x".repeat(300)}\nsecond` },
    };
    const line = activityLine(activityOf(hostile)!);
    expect(line).toMatch(/^\*\*Now:\*\* /);
    expect(line).not.toContain("\n");
    expect(line).toContain("`@alice`");
    expect(rendered(line)).toMatchObject({ html: [], links: [], live: [], headings: [] });
    // the command is one code span (GitHub pings nobody from code), its own backticks dropped
    expect(line.split(" · ")[1]).toMatch(/^`\$ echo @bob x+…`$/);
    expect(line.length).toBeLessThan(260);
  });
});

describe("when to look", () => {
  const ready = Date.parse("2026-11-26T10:00:00Z");
  const task = transition(
    transition(
      newTask("e".repeat(32), sampleRequest, new Date(ready), new Date(ready)),
      "starting",
      {},
      new Date(ready),
    ),
    "running",
    { readyAt: new Date(ready).toISOString() },
    new Date(ready),
  );

  it("once per window of the run, on the window's first tick, from the clock alone", () => {
    const ticks = Array.from({ length: 20 }, (_, i) => ready + 90_000 + i * 3 * MIN); // a */3 cron over an hour
    const looks = ticks.filter((t) => activityDue(task, t));
    expect(looks.map((t) => Math.floor((t - ready) / ACTIVITY_EVERY_MS))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(activityDue({ ...task, status: "needs_input" }, ready + ACTIVITY_EVERY_MS)).toBe(false);
  });
});

describe("on the tracking comment", () => {
  let fakes: World;
  beforeEach(() => {
    fakes = startWorld();
  });

  it("says how long it has worked and what it does now, and edits only when that changes", async () => {
    fakes.openhands.nextScript = quickScript({ execution: ["running"] });
    await fakes.comment("@openhands-app fix the parser");
    await runCron(fakes.env); // READY, running
    const conversation = [...fakes.openhands.conversations.values()][0]!;
    const readyAt = Date.parse(conversation.createdAt);
    const comment = () => fakes.github.commentsOn("Codertocat", "Hello-World", 1)[0]!.body;
    const edits = () => fakes.github.find("PATCH", /\/issues\/comments\/\d+$/).length;
    const activityReads = () =>
      fakes.openhands.find("GET", /\/events\/search$/).filter((r) => r.query.get("kind__eq") === "ActionEvent");
    const at = (minutes: number) => new Date(readyAt + minutes * MIN + 10_000);

    fakes.openhands.recordAction(conversation.id, {
      tool_name: terminal.tool_name as string,
      action: terminal.action as Record<string, unknown>,
      summary: "Run parseDate tests",
    });
    await runCron(fakes.env, at(3)); // not yet in a window: no look
    expect(activityReads()).toHaveLength(0);

    await runCron(fakes.env, at(6));
    expect(activityReads().map((r) => [r.query.get("sort_order"), r.query.get("limit")])).toEqual([
      ["TIMESTAMP_DESC", "1"],
    ]);
    expect(comment()).toContain("👀 **OpenHands has been working on it for 6 min.**");
    expect(comment()).toContain(
      "**Now:** Run parseDate tests · `$ cd /workspace/project && npm test -- --run parseDate`",
    );
    expect(edits()).toBe(1);

    await runCron(fakes.env, at(9)); // same window: no look
    await runCron(fakes.env, at(12)); // next window, same action: looked at, not edited
    expect(activityReads()).toHaveLength(2);
    expect(edits()).toBe(1);

    // A result an overlapping tick posted in the meantime is never turned back into "working".
    const [tracking] = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    const result = "✅ **OpenHands finished: no changes.** (posted by an overlapping tick)";
    tracking!.body = result;
    fakes.openhands.recordAction(conversation.id, {
      tool_name: "terminal",
      action: { kind: "TerminalAction", command: "ls" },
      summary: "List files",
    });
    await runCron(fakes.env, at(12 + 6));
    expect(comment()).toBe(result);
    expect(edits()).toBe(1);
    tracking!.body = comment().replace(result, "👀 **OpenHands is working on it.**");

    fakes.openhands.recordAction(conversation.id, {
      tool_name: "file_editor",
      action: editor.action as Record<string, unknown>,
      summary: "Fix timezone handling in parseDate",
    });
    await runCron(fakes.env, at(24));
    expect(comment()).toContain("working on it for 24 min.");
    expect(comment()).toContain("**Now:** Fix timezone handling in parseDate · `editing src/date.ts`");
    expect(edits()).toBe(2);
  });

  it("leaves a deleted tracking comment alone: the result posts one new comment, not two", async () => {
    fakes.openhands.nextScript = quickScript({ execution: ["running", "running", "finished"] });
    await fakes.comment("@openhands-app fix the parser");
    await runCron(fakes.env); // READY, running
    const conversation = [...fakes.openhands.conversations.values()][0]!;
    const readyAt = Date.parse(conversation.createdAt);
    fakes.openhands.recordAction(conversation.id, {
      tool_name: "terminal",
      action: terminal.action as Record<string, unknown>,
      summary: "Run tests",
    });
    const [tracking] = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    fakes.github.comments.delete(tracking!.id);

    await runCron(fakes.env, new Date(readyAt + 6 * MIN + 10_000)); // looks, finds it gone, posts nothing
    expect(fakes.github.commentsOn("Codertocat", "Hello-World", 1)).toHaveLength(0);
    await runCron(fakes.env, new Date(readyAt + 9 * MIN)); // finished
    const after = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(after).toHaveLength(1);
    expect(after[0]!.body).toMatch(/^✅/);
  });

  it("keeps the notes added under the comment, such as a follow-up sent to the conversation", async () => {
    fakes.openhands.nextScript = quickScript({ execution: ["running"] });
    await fakes.comment("@openhands-app fix the parser");
    await runCron(fakes.env); // READY, running
    const followUp = issueCommentPayload("@openhands-app also handle the year 2100");
    followUp.comment.id += 1;
    await fakes.deliver("issue_comment", followUp);
    const conversation = [...fakes.openhands.conversations.values()][0]!;
    fakes.openhands.recordAction(conversation.id, {
      tool_name: "terminal",
      action: terminal.action as Record<string, unknown>,
      summary: "Run tests",
    });

    await runCron(fakes.env, new Date(Date.parse(conversation.createdAt) + 6 * MIN + 10_000));
    const [tracking] = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(tracking!.body).toContain("**Now:** Run tests");
    expect(tracking!.body).toContain("📨 A follow-up from @Codertocat");
  });
});
