import { describe, expect, it } from "vitest";
import type { PullRequestSummary } from "../src/github/pull-request";
import { defuseOpenHandsMention } from "../src/openhands/github-app";
import { runMetrics } from "../src/openhands/metrics";
import { OWN_MARKER } from "../src/own-marker";
import { agentLine, quoteAgentText } from "../src/report/agent-text";
import * as messages from "../src/report/messages";
import type { FailureReason, WaitReason } from "../src/tasks/reasons";
import { newTask, transition } from "../src/tasks/task";
import { containsMention } from "../src/trigger/mention";
import { openHandsAppAnswers } from "./support/fakes/github";
import { APP_WORDS, sampleRequest } from "./support/fixtures";
import { rendered } from "./support/rendered";

/** What GitHub receives: github/thread.ts breaks every `@openhands` in what the App posts. */
const asPosted = defuseOpenHandsMention;

// What the App posts, as a reader of the thread sees it: one golden file per kind of
// comment (test/__snapshots__/messages/), and the agent's text defused wherever it goes.
const T0 = new Date("2026-11-25T10:00:00Z");
const task = transition(newTask("d".repeat(32), sampleRequest, T0, T0), "starting", {}, T0);
const link = `https://app.all-hands.dev/conversations/${task.id}`;
const view = { task, link };
/** A review nobody asked for (`review.on_push`), stopped by the push after the one it reviewed. */
const automaticReview = {
  ...task,
  request: {
    ...task.request,
    kind: "automatic" as const,
    isPullRequest: true,
    commentUrl: "https://github.com/Codertocat/Hello-World/pull/2",
    review: { focus: "", automatic: "on_push" as const, since: "1".repeat(40) },
  },
  supersededBy: "2c3d4e5f".repeat(5),
};
const MIN = 60_000;

/** The ✅ of a review posted on commit `bbbbbbb`, eight minutes in. */
function reviewedComment(
  review: { inline: number; folded: number; fromMessage: boolean; movedTo?: string },
  metrics?: ReturnType<typeof runMetrics>,
) {
  const url = "https://github.com/Codertocat/Hello-World/pull/1#pullrequestreview-80001";
  const produced = { kind: "review" as const, url, commit: "b".repeat(40), ...review };
  return messages.succeededComment({ ...view, summary: "", durationMs: 8 * MIN, produced, metrics });
}

const pull = (fields: Partial<PullRequestSummary> = {}): PullRequestSummary => ({
  repository: "Codertocat/Hello-World",
  number: 42,
  title: "Fix leap years in parseDate",
  url: "https://github.com/Codertocat/Hello-World/pull/42",
  draft: true,
  merged: false,
  state: "open",
  createdAt: "2026-11-25T10:20:00Z",
  headRef: "openhands/fix-leap-years",
  ...fields,
});

// As the service returns it: model_name is always "default", the conversation's llm_model names the model.
const METRICS = {
  model_name: "default",
  accumulated_cost: 0.8712,
  max_budget_per_task: null,
  accumulated_token_usage: { prompt_tokens: 412_330, completion_tokens: 9_120 },
};
const FINAL = "Fixed `parseDate` to respect leap years and added a test.\n\nOpened PR #42.";

const golden = (name: string) => `./__snapshots__/messages/${name}.md`;

describe("the tracking comment at each stage (golden files)", () => {
  it.each([
    [
      "queued",
      messages.queuedComment({
        ...view,
        reason: { kind: "no_free_slot", running: 3, limit: 3 },
        retryAt: new Date(T0.getTime() + 2 * MIN),
      }),
    ],
    ["working", messages.workingComment(view)],
    [
      "working-progress",
      messages.workingComment({
        ...view,
        progress: {
          elapsedMs: 18 * MIN,
          activity: { summary: "Run the parseDate tests", detail: "$ npm test -- --run parseDate" },
        },
      }),
    ],
    [
      "working-continuing",
      messages.workingComment({
        task: { ...task, continues: { conversationId: "e".repeat(32), since: T0.toISOString(), summary: FINAL } },
        link: `https://app.all-hands.dev/conversations/${"e".repeat(32)}`,
      }),
    ],
    ["working-continue-failed", messages.workingComment({ ...view, task: { ...task, continueFailed: "not_back" } })],
    ["needs-input", messages.needsInputComment(view)],
    [
      "finished-pull-request",
      messages.succeededComment({
        ...view,
        summary: FINAL,
        durationMs: 23 * MIN,
        produced: { kind: "pull_requests", pulls: [pull()] },
        metrics: runMetrics({ metrics: METRICS, llm_model: "claude-sonnet-4-5" }),
      }),
    ],
    [
      "finished-several-pull-requests",
      messages.succeededComment({
        ...view,
        summary: FINAL,
        durationMs: 41 * MIN,
        produced: {
          kind: "pull_requests",
          pulls: [
            pull({ draft: false }),
            pull({
              repository: "Codertocat/docs",
              number: 7,
              title: "Document leap years",
              url: "https://github.com/Codertocat/docs/pull/7",
              draft: false,
              createdAt: "2026-01-01T00:00:00Z",
            }),
          ],
        },
        metrics: runMetrics({ metrics: METRICS, llm_model: "claude-sonnet-4-5" }),
      }),
    ],
    [
      "finished-pushed",
      messages.succeededComment({
        ...view,
        summary: FINAL,
        durationMs: 9 * MIN,
        produced: { kind: "pushed", branch: "fix-dates" },
      }),
    ],
    [
      "finished-no-changes",
      messages.succeededComment({
        ...view,
        summary: "The parser already handles leap years; the failing case is a wrong test expectation.",
        durationMs: 4 * MIN,
        produced: { kind: "none" },
        metrics: runMetrics({ metrics: null }),
      }),
    ],
    [
      "failed",
      messages.failedComment({
        ...view,
        reason: {
          kind: "agent",
          status: "error",
          resumed: false,
          detail: "LLMBadRequestError: Budget exceeded for this user",
        },
        durationMs: 12 * MIN,
        summary: "I could not run the tests: the budget ran out.",
        metrics: runMetrics({ metrics: { ...METRICS, accumulated_cost: 5 }, llm_model: "claude-sonnet-4-5" }),
      }),
    ],
    [
      "finished-message-unreadable",
      messages.succeededComment({
        ...view,
        summary: "",
        summaryUnread: true,
        durationMs: 14 * MIN,
        produced: { kind: "none" },
      }),
    ],
    [
      "reviewed",
      reviewedComment(
        { inline: 2, folded: 1, fromMessage: false },
        runMetrics({ metrics: METRICS, llm_model: "claude-sonnet-4-5" }),
      ),
    ],
    ["reviewed-head-moved", reviewedComment({ inline: 0, folded: 0, fromMessage: true, movedTo: "c".repeat(40) })],
    ["timed-out", messages.timedOutComment({ ...view, phase: "run", durationMs: 360 * MIN })],
    ["stopped", messages.stoppedComment({ ...view, by: "Codertocat" })],
    ["superseded", messages.stoppedComment({ ...view, task: automaticReview, by: "Codertocat" })],
  ])("%s", async (name, message) => {
    const body = asPosted(message);
    await expect(body).toMatchFileSnapshot(golden(name));
    // Every tracking comment ends with the App's marker, once, and can never ask the App, nor OpenHands' own, for work.
    expect(body.trimEnd().endsWith(`${OWN_MARKER} task:${task.id} -->`)).toBe(true);
    expect(body.split(OWN_MARKER)).toHaveLength(2);
    expect(containsMention(body, "@openhands-app")).toBe(false);
    expect(openHandsAppAnswers(body)).toBe(false);
  });
});

describe("the App's other messages (golden files)", () => {
  const running = { ...task, status: "running" as const };
  it.each([
    [
      "status-reply",
      messages.statusReply(
        [
          { task: running, link, metrics: runMetrics({ metrics: METRICS, llm_model: "claude-sonnet-4-5" }) },
          {
            task: { ...task, id: "f".repeat(32), status: "succeeded" as const, createdAt: "2026-11-25T08:00:00Z" },
            link,
          },
        ],
        new Date(T0.getTime() + 30 * MIN),
      ),
    ],
    ["status-reply-empty", messages.statusReply([], T0)],
    [
      "help-reply",
      messages.helpReply({
        words: { ...APP_WORDS, reviewLabel: "openhands-review", continueDays: 7 },
        maxStartsPerThreadPerHour: 5,
      }),
    ],
    [
      "help-reply-openhands-words",
      messages.helpReply({
        words: { mention: "@openhands", label: "openhands", reviewLabel: "openhands-review" },
        maxStartsPerThreadPerHour: 5,
      }),
    ],
    ["not-allowed-reply", messages.notAllowedReply("outsider", "maintainer")],
    [
      "review-body",
      messages.reviewBody({
        task,
        link,
        durationMs: 8 * MIN,
        metrics: runMetrics({ metrics: METRICS, llm_model: "claude-sonnet-4-5" }),
        summary: "The leap-year rule is right; a test for 1900 is missing.",
        folded: [{ path: "src/format.ts", line: 40, side: "RIGHT", body: "The formatter drops the time zone." }],
        unreadable: 1,
        counts: { inline: 2, folded: 1 },
      }),
    ],
    ["fork-reply", messages.forkNotSupportedReply("contributor")],
    [
      "follow-up-note",
      messages.workingComment(view) +
        messages.followUpNote({
          ...view,
          from: "Codertocat",
          url: "https://github.com/Codertocat/Hello-World/issues/1#issuecomment-2",
        }),
    ],
    ["stop-did-not-take-note", messages.workingComment(view) + messages.stopDidNotTakeNote({ by: "Codertocat", link })],
    // a requester whose login is the mention OpenHands' App answers
    ["not-allowed-reply-to-openhands", messages.notAllowedReply("openhands")],
  ])("%s", async (name, message) => {
    const body = asPosted(message);
    await expect(body).toMatchFileSnapshot(golden(name));
    expect(containsMention(body, "@openhands-app")).toBe(false);
    expect(openHandsAppAnswers(body)).toBe(false);
  });
});

// Every reason a step can give, by kind: a new kind fails the type check here until it has its example.
const WAIT_REASONS: { [K in WaitReason["kind"]]: Extract<WaitReason, { kind: K }>[] } = {
  thread_busy: [{ kind: "thread_busy" }],
  no_free_slot: [{ kind: "no_free_slot", running: 3, limit: 3 }],
  hourly_limit: [
    { kind: "hourly_limit", scope: "thread", limit: 5 },
    { kind: "hourly_limit", scope: "installation", limit: 30 },
  ],
  upstream: [
    { kind: "upstream", trouble: { service: "openhands", detail: "OpenHands answered 503: Service Unavailable" } },
    { kind: "upstream", trouble: { service: "github", status: 502 } },
    { kind: "upstream", trouble: { service: "github" } },
    { kind: "upstream", trouble: { service: "unknown" } },
  ],
};
const FAILURE_REASONS: { [K in FailureReason["kind"]]: Extract<FailureReason, { kind: K }>[] } = {
  start_errored: [{ kind: "start_errored", detail: "Sandbox image could not be pulled" }, { kind: "start_errored" }],
  start_refused: [{ kind: "start_refused", detail: "OpenHands answered 402: no credits left" }],
  start_rejected: [
    { kind: "start_rejected", trouble: { service: "openhands", detail: "OpenHands answered 422: invalid repository" } },
  ],
  start_attempts_spent: [{ kind: "start_attempts_spent", attempts: 5, trouble: { service: "github", status: 500 } }],
  agent_token_refused: [
    {
      kind: "agent_token_refused",
      detail: "GitHub would not give the agent a token with contents: write; grant it to the App's installation",
    },
  ],
  start_unknown: [{ kind: "start_unknown" }],
  conversation_gone: [{ kind: "conversation_gone" }],
  sandbox_failed: [{ kind: "sandbox_failed" }],
  sandbox_gone: [{ kind: "sandbox_gone" }],
  sandbox_not_back: [{ kind: "sandbox_not_back" }],
  agent: [
    { kind: "agent", status: "error", resumed: false },
    { kind: "agent", status: "stuck", resumed: true },
    { kind: "agent", status: "error", resumed: false, detail: "LLMBadRequestError: Budget exceeded @openhands-app" },
  ],
};

describe("every reason the App gives (golden file)", () => {
  it("says each wait and each failure in words, and in one file", async () => {
    const lines = [
      "# Why a request waits (the ⏳ comment)",
      "",
      ...Object.values(WAIT_REASONS)
        .flat()
        .map((reason) => `- ${messages.waitWords(reason)}`),
      "",
      "# Why a task failed (the ❌ comment)",
      "",
      ...Object.values(FAILURE_REASONS)
        .flat()
        .map((reason) => `- ${messages.failureWords(reason)}`),
      "",
    ];
    const body = asPosted(lines.join("\n"));
    await expect(body).toMatchFileSnapshot(golden("reasons"));
    expect(containsMention(body, "@openhands-app")).toBe(false);
    expect(openHandsAppAnswers(body)).toBe(false);
  });
});

describe("cost and size", () => {
  it("says what the service counted, and nothing when it counted nothing", () => {
    expect(messages.runFigures(23 * MIN, runMetrics({ metrics: METRICS, llm_model: "claude-sonnet-4-5" }))).toBe(
      "23 min · $0.87 · 421k tokens · `claude-sonnet-4-5`",
    );
    // Before the first model call the service says zeros; the API description allows null.
    const zeros = {
      ...METRICS,
      accumulated_cost: 0,
      accumulated_token_usage: { prompt_tokens: 0, completion_tokens: 0 },
    };
    for (const metrics of [
      null,
      undefined,
      {},
      zeros,
      { accumulated_cost: null, accumulated_token_usage: null },
      "garbage",
    ]) {
      expect(runMetrics({ metrics, llm_model: "claude-sonnet-4-5" })).toBeUndefined();
      expect(messages.runFigures(23 * MIN, runMetrics({ metrics }))).toBe("23 min");
    }
    // A zero cost beside counted tokens is the service's figure, not a missing one.
    const free = { accumulated_cost: 0, accumulated_token_usage: { prompt_tokens: 1_200, completion_tokens: 0 } };
    expect(messages.runFigures(undefined, runMetrics({ metrics: free }))).toBe("$0.00 · 1k tokens");
    expect(messages.runFigures(undefined, runMetrics({ metrics: { accumulated_cost: 0.004 } }))).toBe("< $0.01");
    const many = { accumulated_token_usage: { prompt_tokens: 1_234_567 } };
    expect(messages.runFigures(undefined, runMetrics({ metrics: many }))).toBe("1.2M tokens");
    // The model's label is shown as code and cannot carry markup; "default" names nothing.
    expect(
      messages.runFigures(undefined, runMetrics({ metrics: { accumulated_cost: 1 }, llm_model: "gpt`<b>@x</b>" })),
    ).toBe("$1.00 · `gptbx/b`");
    expect(
      messages.runFigures(undefined, runMetrics({ metrics: { accumulated_cost: 1, model_name: "default" } })),
    ).toBe("$1.00");
  });

  it("shows no cost in a failure when there is none", () => {
    const body = messages.failedComment({ ...view, reason: { kind: "sandbox_failed" }, durationMs: MIN });
    expect(body).not.toMatch(/\$|tokens/);
  });
});

describe("the agent's text, posted under the App's name", () => {
  const hostile = [
    "@alice @bob @org/team please look, cc @dependabot and @openhands-app fix everything, @openhands too",
    "# ✅ **OpenHands finished** in 1 min",
    "✅ **OpenHands finished: no changes.**",
    "Title\n===",
    "<!-- openhands-github-app task:0000 --> hidden <!-- note -->",
    "</details></blockquote>\n\n❌ **OpenHands could not complete this request**",
    "<img src=x onerror=alert(1)> <script>alert(1)</script>",
    "[//]: # (a hidden link definition)",
    "```\nunclosed fence, the rest would be code",
  ].join("\n\n");

  const posted = messages.succeededComment({ ...view, summary: hostile, durationMs: MIN, produced: { kind: "none" } });
  // Long enough to be folded: the App's own <details> wraps the agent's quoted lines.
  const folded = posted.slice(posted.indexOf("<details>"), posted.indexOf("\n\n<sub>"));
  const agentPart = folded
    .split("\n")
    .filter((line) => line.startsWith(">"))
    .join("\n");

  it("pings nobody: every mention is shown as code", () => {
    for (const login of ["alice", "bob", "org/team", "dependabot", "openhands-app"]) {
      expect(agentPart).toContain(`\`@${login}\``);
      expect(agentPart).not.toMatch(new RegExp(`(^|[^\`])@${login}`, "m"));
    }
    expect(containsMention(posted, "@openhands-app")).toBe(false);
    // OpenHands' own App reads code too: its mention is also broken by a word joiner
    expect(agentPart).toContain("`@\u2060openhands`");
    expect(openHandsAppAnswers(posted)).toBe(false);
  });

  it("cannot pass for the App: its status lines and headings only appear quoted, as bold text", () => {
    const seen = rendered(folded);
    expect(seen.unquoted).toEqual(["<details><summary>The agent's final message</summary>", "</details>"]);
    expect(seen.headings).toEqual([]);
    expect(agentPart).toContain("> **✅ **OpenHands finished** in 1 min**");
    expect(agentPart).toContain("> \\===");
    // the App's own headline is the first line, and the only unquoted status line
    expect(posted.split("\n")[0]).toBe(
      "✅ **OpenHands finished: no changes.** The agent did not open or update a pull request.",
    );
  });

  it("shows HTML as text and drops what a reader would not see", () => {
    const seen = rendered(agentPart);
    expect(seen.html).toEqual([]);
    expect(agentPart).not.toContain("hidden link definition");
    expect(agentPart).not.toMatch(/(?<!\\)<(img|script|\/details|\/blockquote)/i);
    // GitHub drops a script with its text: so does the App
    expect(agentPart).not.toContain("alert(1)</script>");
    // a fold tag is dropped (as from any text the App reads), any other tag shows as text
    expect(agentPart).toContain("> \\</blockquote>");
    expect(posted.split(OWN_MARKER)).toHaveLength(2);
  });

  it("keeps an unclosed fence inside the quote, and code as written", () => {
    expect(agentPart.endsWith("> ```\n> unclosed fence, the rest would be code\n> ```")).toBe(true);
    expect(quoteAgentText("run `npm test <file>` then\n```\n<b>@x</b>\n```", { maxChars: 1000, link })).toBe(
      "> run `npm test <file>` then\n> ```\n> <b>@x</b>\n> ```",
    );
  });

  /** What a reader sees of the agent's quoted text, where nothing may speak for the App. */
  function assertDefused(quoted: string, appLinks: readonly string[] = []) {
    const seen = rendered(quoted);
    expect(seen.html, quoted).toEqual([]);
    expect(seen.live, quoted).toEqual([]);
    expect(
      seen.links.filter((l) => !appLinks.includes(l)),
      quoted,
    ).toEqual([]);
    expect(seen.headings, quoted).toEqual([]);
    expect(seen.unquoted, quoted).toEqual([]);
    expect(quoted, quoted).not.toContain(OWN_MARKER);
  }

  // Found in a review against the CommonMark reference parser (issue 20).
  it.each([
    ["a lone backtick before a mention", "see `@victim please"],
    [
      "a fence line GitHub does not take for one",
      "```x`\n</blockquote>\n✅ OpenHands opened a pull request: [#9](https://evil)",
    ],
    ["nested tags that join into the App's marker", "<!<details>-- openhands-github-app task:0000 -->\ndone"],
    [
      "the same in code",
      "`<!<details>-- openhands-github-app task:0000 -->`\n```\n<!<details>-- openhands-github-app task:1 -->\n```",
    ],
    ["an entity that spells a mention", "&#64;victim and &commat;victim"],
    ["an autolink and a bare URL", "<https://evil.example> and https://evil.example/x and www.evil.example"],
    ["an e-mail address and another repository's issue", "mail mallory@evil.example about mallory/evil#5"],
    ["a link reference with a definition elsewhere", "[click][1]\n\n[1]: https://evil.example"],
    ["a fence inside a fence", "````\n```\n@victim\n````\n@victim"],
    ["an indented block after a list", "- item\n\n      <b>x</b> @victim"],
    ["a drawn diagram", '```mermaid\ngraph TD; A-->B; click A "https://evil.example"\n```'],
  ])("%s is posted defused", (_name, text) => {
    const quoted = quoteAgentText(text, { maxChars: 5_000, link });
    assertDefused(quoted);
    expect(quoted).not.toMatch(/```mermaid/);
  });

  it("stays defused whatever pieces it is made of (a seeded fuzz)", () => {
    const pieces = [
      ..."` `` ``` ~~~ < > </details> <!-- --> [ ] ]( ( ) ! \\ & # = - * _ | : $ ~~ @ /".split(" "),
      ..."@victim @openhands https://evil.example <http://x.example> www.x.example a@b.example o/r#1".split(" "),
      ..."&#64; &commat; <b> word x$ \\` > 1. - # ```mermaid\n".split(" "),
      "openhands-github-app task:1 -->",
      " ",
      "\t",
      "\n",
      "\n\n",
      "    ",
      "\u00a0",
    ];
    let seed = 20;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed;
    };
    for (let i = 0; i < 2_000; i++) {
      const text = Array.from({ length: 1 + (next() % 80) }, () => pieces[next() % pieces.length]).join("");
      assertDefused(quoteAgentText(text, { maxChars: 5_000, link }));
      const line = agentLine(text, 200);
      const seen = rendered(line);
      expect(seen.html, line).toEqual([]);
      expect(seen.live, line).toEqual([]);
      expect(seen.links, line).toEqual([]);
      expect(seen.headings, line).toEqual([]);
      expect(line, line).not.toContain(OWN_MARKER);
      expect(line).not.toContain("\n");
    }
  });

  it("the progress line is plain text", () => {
    const line = messages.activityLine({
      summary: "<b>bold</b> `code` [x](https://evil.example) @victim",
      detail: "$ echo '<img src=x>' @victim",
    });
    const seen = rendered(line);
    expect(seen.html).toEqual([]);
    expect(seen.links).toEqual([]);
    expect(seen.live).toEqual([]);
  });

  it("is bounded, with the way to the rest", () => {
    const long = quoteAgentText("word ".repeat(5_000), { maxChars: 1_000, link });
    expect(long.length).toBeLessThan(1_200);
    expect(long).toContain(`the full text is in the [conversation](${link})`);
    const folded = messages.succeededComment({
      ...view,
      summary: "x ".repeat(2_000),
      durationMs: MIN,
      produced: { kind: "none" },
    });
    expect(folded).toContain("<details><summary>The agent's final message</summary>");
  });

  it("a single line of it (an error detail, a title) is flat, bounded and defused", () => {
    expect(agentLine("## @alice <b>look</b>\nsecond line", 40)).toBe("\\## `@alice` \\<b>look\\</b> second line");
    expect(agentLine("> quoted", 40)).toBe("\\> quoted");
    expect(agentLine("x".repeat(100), 10)).toBe(`${"x".repeat(9)}…`);
  });

  it("a pull request's title cannot break its link or ping anyone", () => {
    const body = messages.succeededComment({
      ...view,
      summary: "",
      durationMs: MIN,
      produced: { kind: "pull_requests", pulls: [pull({ title: "Fix](https://evil.example) @alice", draft: false })] },
    });
    expect(body.split("\n")[0]).toBe(
      "✅ **OpenHands opened a pull request:** [#42 Fix\\](`https://evil.example`) `@alice`](https://github.com/Codertocat/Hello-World/pull/42)",
    );
    expect(rendered(body).links).toEqual(["https://github.com/Codertocat/Hello-World/pull/42", link]);
  });
});
