/**
 * `npm run readme:examples` writes the README's "The tracking comment, stage by stage" from the
 * App's own message functions (src/report/messages.ts), so the README shows what the App posts,
 * not what someone remembered it posts. `test/scripts/readme-examples.test.ts` fails when the
 * README's copy is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runMetrics } from "../src/openhands/metrics";
import { failedComment, queuedComment, succeededComment, workingComment } from "../src/report/messages";
import { newTask, transition } from "../src/tasks/task";
import type { TriggerRequest } from "../src/trigger/request";

export const START = "<!-- readme-examples:start (npm run readme:examples writes this part) -->";
export const END = "<!-- readme-examples:end -->";

const MIN = 60_000;
const asked = new Date("2026-11-25T10:00:00Z");
const request: TriggerRequest = {
  kind: "comment",
  triggerKey: "issue_comment:1",
  repository: "acme/widgets",
  owner: "acme",
  repo: "widgets",
  number: 12,
  isPullRequest: false,
  installationId: 1,
  requester: "maintainer",
  reactTo: { type: "issue_comment", id: 1 },
  commentUrl: "https://github.com/acme/widgets/issues/12#issuecomment-1",
  title: "parseDate breaks on leap years",
  body: "2024-02-29 is parsed as March 1st.",
  request: "the date parser fails on leap years, please fix it and add a test",
  triggeredAt: asked.toISOString(),
  settings: {
    mention: "@acme-openhands",
    label: "acme-openhands",
    reviewLabel: "openhands-review",
    instructions: "",
    reviewInstructions: "",
    branchPrefix: "openhands/",
    draftPr: true,
    continueDays: 7,
  },
};
const task = transition(newTask("4b7e2d9c1a3f4e5d8c6b0a9f8e7d6c5b", request, asked, asked), "starting", {}, asked);
const link = `https://app.all-hands.dev/conversations/${task.id}`;
const view = { task, link };
const metrics = runMetrics({
  llm_model: "claude-sonnet-4-5",
  metrics: { accumulated_cost: 0.87, accumulated_token_usage: { prompt_tokens: 412_330, completion_tokens: 9_120 } },
});

/** Each stage with the comment as the App writes it. */
export function examples(): { stage: string; body: string }[] {
  return [
    {
      stage: "Queued: it could not start yet, and says why and until when",
      body: queuedComment({
        ...view,
        reason: { kind: "hourly_limit", scope: "thread", limit: 5 },
        retryAt: new Date(asked.getTime() + 38 * MIN),
      }),
    },
    {
      stage: "Working, with what the agent does now (looked at every six minutes, edited only when it changes)",
      body: workingComment({
        ...view,
        progress: {
          elapsedMs: 18 * MIN,
          activity: { summary: "Run the parseDate tests", detail: "$ npm test -- --run parseDate" },
        },
      }),
    },
    {
      stage: "Finished: the pull request first, read back from GitHub, then the cost, then the agent's words",
      body: succeededComment({
        ...view,
        summary: "Fixed `parseDate` to accept February 29th in leap years and added tests for 2024 and 2100.",
        durationMs: 23 * MIN,
        produced: {
          kind: "pull_requests",
          pulls: [
            {
              repository: "acme/widgets",
              number: 42,
              title: "Fix leap years in parseDate",
              url: "https://github.com/acme/widgets/pull/42",
              draft: true,
              merged: false,
              state: "open",
              createdAt: new Date(asked.getTime() + 20 * MIN).toISOString(),
              headRef: "openhands/fix-leap-years",
            },
          ],
        },
        metrics,
      }),
    },
    {
      stage: "Reviewed (`review` on a pull request): the review is posted on the PR, and the comment links it",
      body: succeededComment({
        ...view,
        summary: "",
        durationMs: 9 * MIN,
        produced: {
          kind: "review",
          url: "https://github.com/acme/widgets/pull/42#pullrequestreview-2817390",
          inline: 3,
          folded: 1,
          fromMessage: false,
          commit: "5f2c9e1d8b7a6c4e3f2a1b0c9d8e7f6a5b4c3d2e",
        },
        metrics,
      }),
    },
    {
      stage: "Failed, with the reason",
      body: failedComment({
        ...view,
        reason: {
          kind: "agent",
          status: "error",
          resumed: false,
          detail: "LLMBadRequestError: Budget exceeded for this user",
        },
        durationMs: 12 * MIN,
        summary: "I could not run the tests before the budget ran out.",
        metrics,
      }),
    },
  ];
}

/** The README part: each stage's comment quoted, so GitHub renders it as the thread would. */
export function renderExamples(): string {
  const parts = examples().map(({ stage, body }) => {
    const quoted = body
      .split("\n")
      .map((line) => (line ? `> ${line}` : ">"))
      .join("\n");
    return `**${stage}:**\n\n${quoted}`;
  });
  return `${START}\n\n${parts.join("\n\n")}\n\n${END}`;
}

/** The README with its examples part replaced; throws when the markers are missing. */
export function withExamples(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end < start) throw new Error(`README.md has no ${START} … ${END} part`);
  return readme.slice(0, start) + renderExamples() + readme.slice(end + END.length);
}

const README = fileURLToPath(new URL("../README.md", import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(README, withExamples(readFileSync(README, "utf8")));
  console.log("README.md: tracking comment examples written");
}
