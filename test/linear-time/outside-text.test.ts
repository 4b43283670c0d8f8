import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { removeHiddenMarkdown } from "../../src/markdown/hidden";
import { activityOf } from "../../src/openhands/activity";
import { buildPrompt, followUpPrompt } from "../../src/prompt/build";
import { contextSections } from "../../src/prompt/context";
import { clean } from "../../src/prompt/fence";
import { sanitize } from "../../src/prompt/sanitize";
import { parseRepoConfig } from "../../src/repo-config/parse";
import { agentLine, quoteAgentText } from "../../src/report/agent-text";
import { activityLine } from "../../src/report/messages";
import { parseCommand } from "../../src/trigger/command";
import { decideEvent, mayTrigger, reasonToIgnore, refusedAtOnce } from "../../src/trigger/decide-event";
import { containsMention, requestText } from "../../src/trigger/mention";
import { DEPLOYMENT, sampleRequest } from "../support/fixtures";

const require = createRequire(import.meta.url);
const examples = require("@octokit/webhooks-examples") as { name: string; examples: Record<string, any>[] }[];
const commentExample = examples
  .find((e) => e.name === "issue_comment")!
  .examples.find((p) => p.action === "created" && p.installation)!;

/**
 * Text from outside (issue bodies up to 65,536 characters, comments, the agent's own output)
 * must cost time linear in its length: on Workers Free an invocation gets 10 ms of CPU, and
 * one killed there retries the same step every tick. Run in Node, because workerd's clock
 * does not move during pure computation. Issue 20.
 */
const LENGTH = 65_536;
const RUNS = [
  " ",
  "\t",
  "\u00a0",
  "`",
  "~",
  "<",
  "*",
  "[",
  "@",
  "` ",
  "`a`",
  "\n```",
  "\n~~~",
  "\n> ",
  "- ",
  "1. ",
  "](",
  "@a ",
];
/**
 * A linear pass over 64 KiB takes a few ms to a few tens on a busy 2-core machine; the quadratic
 * patterns this replaced took seconds (5 s for tabs before a letter). The bound sits between, with
 * room for a CI machine that shares its cores.
 */
const BOUND_MS = 250;

function slowest(run: (text: string) => unknown): { ms: number; shape: string } {
  let worst = { ms: 0, shape: "" };
  for (const char of RUNS) {
    const run_ = char.repeat(Math.ceil(LENGTH / char.length)).slice(0, LENGTH);
    for (const [shape, text] of [
      [`${JSON.stringify(char)} alone`, run_],
      [`${JSON.stringify(char)} then x`, `${run_}x`],
      [`x then ${JSON.stringify(char)}`, `x${run_}`],
      [`${JSON.stringify(char)} per line then x`, `${run_.slice(LENGTH / 2)}x\n${run_.slice(LENGTH / 2)}x`],
    ] as const) {
      run(text); // warm
      const started = performance.now();
      run(text);
      const ms = performance.now() - started;
      if (ms > worst.ms) worst = { ms, shape };
    }
  }
  return worst;
}

describe("outside text costs linear time", () => {
  it("sanitize (issue and PR bodies, replies, diff hunks, the agent's messages)", () => {
    const worst = slowest(sanitize);
    console.log(`[figures] ${expect.getState().currentTestName}: ${worst.ms.toFixed(1)} ms (${worst.shape})`);
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("the mention check of text that does not name the App (every comment a webhook sees)", () => {
    const worst = slowest((text) => containsMention(text, "@openhands-app"));
    console.log(`[figures] ${expect.getState().currentTestName}: ${worst.ms.toFixed(1)} ms (${worst.shape})`);
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("the mention check of text that names the App, around the runs", () => {
    const worst = slowest((text) => containsMention(`@openhands-app ${text} @openhands-app`, "@openhands-app"));
    console.log(`[figures] ${expect.getState().currentTestName}: ${worst.ms.toFixed(1)} ms (${worst.shape})`);
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("what GitHub does not show (the mention check and the prompt remove it)", () => {
    const worst = slowest(removeHiddenMarkdown);
    console.log(`[figures] ${expect.getState().currentTestName}: ${worst.ms.toFixed(1)} ms (${worst.shape})`);
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("the request words after the mention, and the command check", () => {
    const worst = slowest((text) => parseCommand(requestText(`@openhands-app ${text}`, "@openhands-app")));
    console.log(`[figures] ${expect.getState().currentTestName}: ${worst.ms.toFixed(1)} ms (${worst.shape})`);
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("the prompt: title, body, request, diff hunk, path, previous result", () => {
    const worst = slowest((text) => {
      const request = {
        ...sampleRequest,
        title: text,
        body: text,
        request: text,
        reviewComment: { commentId: 1, path: text, line: 3, diffHunk: text },
      };
      buildPrompt(request, { branch: text, previous: { link: "https://x", summary: text } });
      followUpPrompt(request);
    });
    console.log(`[figures] ${expect.getState().currentTestName}: ${worst.ms.toFixed(1)} ms (${worst.shape})`);
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("the thread's context: labels, comments, review thread, branches, files", () => {
    const worst = slowest((text) =>
      contextSections(
        {
          labels: [text],
          discussion: [{ author: "a", body: text, at: "2026-01-01T00:00:00Z" }],
          reviewThread: [{ author: "a", body: text }],
          pullRequest: { base: text, head: text, files: [text], moreFiles: 0 },
        },
        "0123456789abcdef",
      ),
    );
    console.log(`[figures] ${expect.getState().currentTestName}: ${worst.ms.toFixed(1)} ms (${worst.shape})`);
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("the report: the agent's final message, an error detail, what it is doing now", () => {
    const worst = slowest((text) => {
      quoteAgentText(text, { maxChars: 20_000, link: "https://app.all-hands.dev/conversations/x" });
      agentLine(text, 300);
      const activity = activityOf({
        id: "e",
        kind: "ActionEvent",
        timestamp: "2026-01-01T00:00:00Z",
        tool_name: "terminal",
        summary: text,
        action: { kind: "TerminalAction", command: text },
      });
      if (activity) activityLine(activity);
    });
    console.log(`[figures] ${expect.getState().currentTestName}: ${worst.ms.toFixed(1)} ms (${worst.shape})`);
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("the webhook's decision on a comment, from someone with no access and from a maintainer", () => {
    const parsed = parseRepoConfig("");
    const worst = slowest((text) => {
      for (const association of ["NONE", "OWNER"]) {
        const payload = structuredClone(commentExample);
        payload.comment.body = text;
        payload.comment.author_association = association;
        if (!mayTrigger("issue_comment", payload)) reasonToIgnore("issue_comment", payload);
        else if (!refusedAtOnce("issue_comment", payload)) decideEvent("issue_comment", payload, parsed, DEPLOYMENT);
      }
    });
    console.log(`[figures] ${expect.getState().currentTestName}: ${worst.ms.toFixed(1)} ms (${worst.shape})`);
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("cuts to the budget: a long body costs what its budget costs", () => {
    expect(clean("a".repeat(65_536), 100)).toMatch(/^a{100}\n\[… 65436 more characters left out\]$/);
  });

  it("still trims trailing whitespace of each line and keeps the lines", () => {
    expect(sanitize("a  \t\nb\u00a0\n\n  c  ")).toBe("a\nb\n\n  c");
  });
});
