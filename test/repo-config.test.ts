import { describe, expect, it } from "vitest";
import { DEFAULT_REPO_CONFIG, parseRepoConfig } from "../src/repo-config/parse";
import { rendered } from "./support/rendered";

describe("parseRepoConfig", () => {
  it("reads every field", () => {
    const { config, problem } = parseRepoConfig(
      [
        "mention: '@helper'",
        "label: agent",
        "events: [comment, label]",
        "instructions: |",
        "  Run `make test` before pushing.",
        'allowed_bots: ["Renovate[bot]"]',
        "branch_prefix: bot/",
        "draft_pr: false",
        "continue_days: 3",
        "review_label: ask-review",
        "review:",
        "  instructions: Look at the tests first.",
        "  on_open: true",
        "  on_push: true",
        "  drafts: true",
      ].join("\n"),
    );
    expect(problem).toBeUndefined();
    expect(config).toEqual({
      mention: "@helper",
      label: "agent",
      events: ["comment", "label"],
      instructions: "Run `make test` before pushing.\n",
      allowedBots: ["renovate[bot]"],
      branchPrefix: "bot/",
      draftPr: false,
      continueDays: 3,
      reviewLabel: "ask-review",
      reviewInstructions: "Look at the tests first.",
      autoReview: { onOpen: true, onPush: true, drafts: true },
    });
  });

  it("an empty file is the defaults", () => {
    expect(parseRepoConfig("")).toEqual({ config: DEFAULT_REPO_CONFIG });
  });

  it.each([
    ["label: agent\nevents: [comment, everything]\n", "line 2: `events` must be a list of"],
    ["draft_pr: maybe\n", "line 1: `draft_pr` must be true or false"],
    ["continue_days: 1.5\n", "line 1: `continue_days` must be a whole number of days from 0 to 30"],
    ["continue_days: 31\n", "line 1: `continue_days` must be a whole number of days from 0 to 30"],
    ["label: a\nlabel2: b\n", "line 2: unknown setting `label2`"],
    ["review:\n  on_close: true\n", "line 1: unknown setting `review.on_close`"],
    ["review:\n  drafts: maybe\n", "line 1: `review.drafts` must be true or false"],
    ["review: yes\n", "line 1: `review` must be a mapping"],
    [
      "review_label: 'two words, and more than fifty characters in all of this label name'\n",
      "line 1: `review_label` must be a label name",
    ],
    ["mention: openhands\n", "line 1: `mention` must look like @name"],
    ["label: [unclosed\n", "line 2:"],
    ["- just\n- a list\n", "line 1: the file must be a mapping"],
  ])("an invalid file is ignored as a whole, with the line: %j", (text, problem) => {
    const parsed = parseRepoConfig(text);
    expect(parsed.config).toEqual(DEFAULT_REPO_CONFIG);
    expect(parsed.problem).toContain(problem);
  });

  it.each([
    ['"`</details>\\n@victim [x](https://evil.example) <b>": 1\n'],
    ['"a``b` @victim": 1\n'],
    ["label: !<tag:@victim,2000:</details>> x\n"],
  ])("what the file says is shown as code in the problem, never as markup: %j", (text) => {
    const { problem } = parseRepoConfig(text);
    expect(problem).toBeDefined();
    const seen = rendered(problem!);
    expect(seen).toMatchObject({ html: [], links: [], live: [], headings: [] });
    expect(problem).not.toContain("\n");
  });
});

describe(".github/openhands.yml, end to end", () => {
  let installationId = 5_500_000;
  async function setup(files: Record<string, string>) {
    const { callWorker, issueCommentPayload, kvSnapshot, signedWebhook } = await import("./support/harness");
    const { FakeOpenHands } = await import("./support/fakes/openhands");
    const { startWorld } = await import("./support/world");
    const fakes = startWorld({ files, script: { execution: FakeOpenHands.defaultScript().execution } });
    const send = async (body: string) => {
      const payload = issueCommentPayload(body, { installationId: installationId++ });
      payload.comment.id = installationId;
      return callWorker(await signedWebhook("issue_comment", payload), fakes.env);
    };
    const prompts = () =>
      fakes.openhands
        .find("POST", /^\/api\/v1\/app-conversations$/)
        .map((r) => (r.body as any).initial_message.content[0].text as string);
    const tasks = async () => (await kvSnapshot(fakes.env)).filter((e) => e.name.startsWith("task:"));
    return { fakes, send, prompts, tasks };
  }

  it("a custom mention, instructions, branch prefix and draft setting shape the request", async () => {
    const { fakes, send, prompts, tasks } = await setup({
      "Codertocat/Hello-World:.github/openhands.yml":
        "mention: '@helper'\ninstructions: Always run `npm test`.\nbranch_prefix: bot/\ndraft_pr: false\n",
    });
    // The repository is new to the App: the answer comes before its config is read,
    // and the event, judged by that config afterwards, asks for nothing.
    expect(await (await send("@openhands-app fix it")).json()).toEqual({
      ok: true,
      received: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(prompts()).toEqual([]);
    expect(await tasks()).toEqual([]);
    // Now the config is known, and the answer says so at once.
    expect(await (await send("@helper fix it")).json()).toMatchObject({ accepted: expect.any(String) });
    expect(prompts()).toHaveLength(1);
    const prompt = prompts()[0]!;
    expect(prompt).toMatch(/<request-([0-9a-f]{16})>\nfix it\n<\/request-\1>/);
    expect(prompt).toContain(
      "Work on a new branch whose name starts with `bot/`, then open a pull request whose description",
    );
    expect(prompt).toMatch(/<instructions-([0-9a-f]{16})>\nAlways run `npm test`\.\n<\/instructions-\1>/);
    expect(prompt).toContain("Never write an `@` directly followed by `helper` or `openhands`");
    // read once, then served from the cache
    expect(fakes.github.find("GET", /\/contents\/\.github(%2F|\/)openhands\.yml$/)).toHaveLength(1);
  });

  it("a change to the file is noticed after the answer, and applied to the event that noticed it", async () => {
    const { clearRepoConfigMemory } = await import("../src/repo-config/load");
    const { fakes, send, prompts, tasks } = await setup({});
    const configReads = () => fakes.github.find("GET", /\/contents\/\.github(%2F|\/)openhands\.yml$/).length;
    // First event: the repository is learnt (no file: the defaults), and kept in KV.
    await send("@alice have a look");
    const learnt = configReads();
    // The maintainer switches to another mention; a new isolate knows only the KV copy.
    fakes.github.files.set("Codertocat/Hello-World:.github/openhands.yml", "mention: '@helper'\n");
    clearRepoConfigMemory();
    // Decided at once with the copy (no such mention: ignored), then read again after the
    // answer, found changed, and decided again: it is a request after all.
    expect(await (await send("@helper fix it")).json()).toEqual({ ok: true, ignored: "no mention" });
    expect(configReads()).toBe(learnt + 1);
    expect(prompts()).toHaveLength(1);
    expect(prompts()[0]).toMatch(/<request-([0-9a-f]{16})>\nfix it\n<\/request-\1>/);
    expect((await tasks()).map((e) => (e.metadata as { s: string }).s)).toEqual(["starting"]);
    // The old mention, under the new file: accepted from the stale copy in another new
    // isolate, then withdrawn before anything starts, and its record removed.
    const kvBefore = (await kvSnapshot()).find((e) => e.name.startsWith("repo-config:"));
    clearRepoConfigMemory();
    await fakes.env.TASKS.put(kvBefore!.name, JSON.stringify({ config: DEFAULT_REPO_CONFIG }));
    const reactionsBefore = fakes.github.reactions.length;
    expect(await (await send("@openhands-app fix it")).json()).toMatchObject({ accepted: expect.any(String) });
    expect(prompts()).toHaveLength(1);
    expect(fakes.github.reactions).toHaveLength(reactionsBefore);
    expect(await tasks()).toHaveLength(1);

    async function kvSnapshot() {
      const { kvSnapshot } = await import("./support/harness");
      return kvSnapshot(fakes.env);
    }
  });

  it("an unchanged file is read again every ten minutes per isolate, but never written to KV again", async () => {
    const { clearRepoConfigMemory } = await import("../src/repo-config/load");
    const { fakes, send } = await setup({
      "Codertocat/Hello-World:.github/openhands.yml": "instructions: Be brief.\n",
    });
    const { recordingKv } = await import("./support/harness");
    const recorded = recordingKv(fakes.env);
    fakes.env = recorded.env;
    for (let i = 0; i < 3; i++) {
      clearRepoConfigMemory();
      await send("@alice looks good");
    }
    expect(fakes.github.find("GET", /\/contents\/\.github(%2F|\/)openhands\.yml$/)).toHaveLength(3);
    expect(recorded.puts.filter((p) => p.key.startsWith("repo-config:"))).toHaveLength(1);
  });

  it("falls back to the organisation's .github repository", async () => {
    const { send, prompts, tasks } = await setup({ "Codertocat/.github:.github/openhands.yml": "events: [label]\n" });
    expect((await send("@openhands-app fix it")).status).toBe(202);
    expect(prompts()).toEqual([]);
    expect(await tasks()).toEqual([]);
    // known now: the answer itself says why
    expect(await (await send("@openhands-app fix it again")).json()).toEqual({
      ok: true,
      ignored: "this trigger is switched off in .github/openhands.yml",
    });
  });

  it("an invalid file: defaults apply, and the tracking comment says why, with the line", async () => {
    const { fakes, send, prompts } = await setup({
      "Codertocat/Hello-World:.github/openhands.yml": "label: agent\ndraft_pr: maybe\n",
    });
    expect((await send("@openhands-app fix it")).status).toBe(202);
    expect(prompts()).toHaveLength(1);
    const [comment] = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
    expect(comment!.body).toContain(
      "⚠️ `.github/openhands.yml` was ignored (line 2: `draft_pr` must be true or false); the defaults apply.",
    );
  });

  it("allowed_bots lets a named bot trigger; other bots still cannot", async () => {
    const { fakes } = await setup({
      "Codertocat/Hello-World:.github/openhands.yml": "allowed_bots: ['renovate[bot]']\n",
    });
    const { callWorker, issueCommentPayload, signedWebhook } = await import("./support/harness");
    fakes.github.permissions.set("renovate[bot]", "write");
    for (const login of ["renovate[bot]", "dependabot[bot]"]) {
      const payload = issueCommentPayload("@openhands-app rebase this", {
        sender: { login, type: "Bot" },
        installationId: installationId++,
      });
      payload.comment.id = installationId;
      await callWorker(await signedWebhook("issue_comment", payload), fakes.env);
    }
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
  });
});
