import { beforeEach, describe, expect, it } from "vitest";
import { runCron } from "./support/harness";
import { quickScript, startWorld, type World } from "./support/world";

// What a finished run says first, through the whole Worker: the pull requests it produced,
// read back from GitHub, and what it cost, as the fake service reports them.
let fakes: World;
beforeEach(() => {
  fakes = startWorld();
});

const conversation = () => [...fakes.openhands.conversations.values()][0]!;
const result = () => fakes.github.commentsOn("Codertocat", "Hello-World", 1)[0]!.body;
const pullReads = () => fakes.github.find("GET", /\/pulls\/\d+$/).map((r) => r.path);

/** Comment, let the agent start and work, let `duringRun` act as the agent, then let it finish. */
async function run(finalMessage: string, duringRun: () => void, options: { pullRequest?: boolean } = {}) {
  fakes.openhands.nextScript = quickScript({ execution: ["running", "running", "finished"], finalMessage });
  await fakes.comment("@openhands-app fix the date parser", options);
  await runCron(fakes.env); // READY, running
  duringRun();
  await runCron(fakes.env); // running
  await runCron(fakes.env); // finished
}

const opened = (title: string, extra: Record<string, unknown> = {}) => ({
  ref: "openhands/fix-dates",
  repository: "Codertocat/Hello-World",
  baseRef: "main",
  title,
  createdAt: new Date().toISOString(),
  ...extra,
});

describe("the result line", () => {
  it("names the pull request the service recorded, with the run's cost", async () => {
    await run("Done.", () => {
      fakes.github.pulls.set(43, opened("Fix leap years", { draft: true }));
      fakes.openhands.recordPullRequest(conversation().id, "https://github.com/Codertocat/Hello-World/pull/43");
      fakes.openhands.setMetrics(conversation().id, { cost: 0.8712, promptTokens: 412_330, completionTokens: 9_120 });
    });
    const [headline, , figures] = result().split("\n");
    expect(headline).toBe(
      "✅ **OpenHands opened a pull request:** [#43 Fix leap years](https://github.com/Codertocat/Hello-World/pull/43) (draft)",
    );
    expect(figures).toMatch(
      /^Finished in (less than a minute|\d+ min) · \$0\.87 · 421k tokens · `claude-sonnet-4-5`\.$/,
    );
    expect(pullReads()).toEqual(["/repos/Codertocat/Hello-World/pulls/43"]);
  });

  it("waits out a rate-limited read of the pull request instead of posting the result without it", async () => {
    // GitHub's secondary limit answers 403, with Retry-After: "later", unlike a 403 for a repository it will not show.
    const limited = () =>
      new Response(JSON.stringify({ message: "You have exceeded a secondary rate limit." }), {
        status: 403,
        headers: { "content-type": "application/json", "retry-after": "60" },
      });
    await run("Done.", () => {
      fakes.github.pulls.set(43, opened("Fix leap years", { draft: true }));
      fakes.openhands.recordPullRequest(conversation().id, "https://github.com/Codertocat/Hello-World/pull/43");
      fakes.github.failNext("GET", /\/pulls\/43$/, limited);
    });
    expect(result()).not.toContain("OpenHands finished");
    await runCron(fakes.env, new Date(Date.now() + 2 * 60_000));
    expect(result().split("\n")[0]).toBe(
      "✅ **OpenHands opened a pull request:** [#43 Fix leap years](https://github.com/Codertocat/Hello-World/pull/43) (draft)",
    );
  });

  it("says nothing of cost when the service counted nothing, and 'no changes' when nothing was opened", async () => {
    await run("The parser is right; the test expectation was wrong.", () => {});
    expect(result().split("\n")[0]).toBe(
      "✅ **OpenHands finished: no changes.** The agent did not open or update a pull request.",
    );
    expect(result()).not.toMatch(/\$|tokens/);
    expect(pullReads()).toEqual([]);
  });

  it("lists several pull requests, links in the message included, and skips what GitHub does not confirm", async () => {
    const message = [
      "Opened https://github.com/Codertocat/Hello-World/pull/44 and PR #45,",
      "and https://github.com/someone-else/private/pull/9 which this App cannot see, and PR #999 which does not exist.",
    ].join(" ");
    await run(message, () => {
      fakes.github.pulls.set(44, opened("Fix leap years"));
      fakes.github.pulls.set(45, opened("Add a test for 2100", { sha: "c".repeat(40) }));
    });
    expect(result()).toContain(
      [
        "✅ **OpenHands finished with 2 pull requests:**",
        "",
        "- opened [#44 Fix leap years](https://github.com/Codertocat/Hello-World/pull/44)",
        "- opened [#45 Add a test for 2100](https://github.com/Codertocat/Hello-World/pull/45)",
      ].join("\n"),
    );
    // at most three read back, in the order they are trusted; another repository's is never read
    expect(pullReads()).toEqual([
      "/repos/Codertocat/Hello-World/pulls/44",
      "/repos/Codertocat/Hello-World/pulls/45",
      "/repos/Codertocat/Hello-World/pulls/999",
    ]);
  });

  it("does not take an old pull request for the run's: the service records numbers without their repository", async () => {
    // The agent opened someone-else/docs#7 with the service's tool; this repository's #7 is an old PR.
    fakes.github.pulls.set(7, { ...opened("An old PR"), createdAt: "2025-01-01T00:00:00Z" });
    await run("Opened the docs PR.", () =>
      fakes.openhands.recordPullRequest(conversation().id, "https://github.com/someone-else/docs/pull/7"),
    );
    expect(result().split("\n")[0]).toContain("no changes");
  });

  it("on a pull request's own thread, a new head commit is a push there", async () => {
    fakes.github.pulls.set(1, {
      ref: "fix/leap-year",
      repository: "Codertocat/Hello-World",
      baseRef: "main",
      sha: "a".repeat(40),
    });
    await run(
      "Pushed the fix.",
      () => fakes.github.pulls.set(1, { ...fakes.github.pulls.get(1)!, sha: "b".repeat(40) }),
      {
        pullRequest: true,
      },
    );
    expect(result().split("\n")[0]).toBe("✅ **OpenHands pushed to this pull request** (branch `fix/leap-year`).");
  });

  it("on a pull request's own thread, an unchanged head is no change", async () => {
    fakes.github.pulls.set(1, { ref: "fix/leap-year", repository: "Codertocat/Hello-World", baseRef: "main" });
    await run("The tests already pass on this branch.", () => {}, { pullRequest: true });
    expect(result().split("\n")[0]).toContain("no changes");
  });
});

describe("the result line claims only what the run did", () => {
  const ours = "[#46 Fix leap years](https://github.com/Codertocat/Hello-World/pull/46)";
  const theRunsOwn = () => fakes.github.pulls.set(46, opened("Fix leap years"));
  const headline = () => result().split("\n")[0];
  /** The agent's own words, quoted: whatever it names stays there, as it wrote it. */
  const quoted = () => result().slice(result().indexOf("The agent's final message"));
  const commitReads = () => fakes.github.find("GET", /\/git\/commits\//).map((r) => r.path);

  it("a stranger's fork PR the message names is not the App's claim", async () => {
    const message =
      "Opened https://github.com/Codertocat/Hello-World/pull/77 and https://github.com/Codertocat/Hello-World/pull/46";
    await run(message, () => {
      // opened during the run, on a branch named like the agent's, but from mallory's fork
      fakes.github.pulls.set(77, {
        ...opened("Totally the fix"),
        repository: "mallory/Hello-World",
        author: "mallory",
      });
      theRunsOwn();
    });
    expect(headline()).toBe(`✅ **OpenHands opened a pull request:** ${ours}`);
    expect(quoted()).toContain("https://github.com/Codertocat/Hello-World/pull/77");
  });

  it("a PR in another repository is neither read nor claimed", async () => {
    const message = "See https://github.com/mallory/evil/pull/5, and PR #46 here.";
    await run(message, () => {
      fakes.github.pulls.set(5, { ...opened("Evil"), repository: "mallory/evil", baseRepository: "mallory/evil" });
      theRunsOwn();
    });
    expect(headline()).toBe(`✅ **OpenHands opened a pull request:** ${ours}`);
    expect(pullReads()).toEqual(["/repos/Codertocat/Hello-World/pulls/46"]);
    expect(quoted()).toContain("https://github.com/mallory/evil/pull/5");
  });

  it("an old PR of this repository, untouched during the run, is not claimed", async () => {
    fakes.github.pulls.set(30, {
      ...opened("Last year's fix"),
      ref: "openhands/old",
      createdAt: "2025-03-01T00:00:00Z",
    });
    await run("As in PR #30, and now PR #46.", theRunsOwn);
    expect(headline()).toBe(`✅ **OpenHands opened a pull request:** ${ours}`);
    expect(commitReads()).toEqual([]);
  });

  it("a person's PR on a branch outside the prefix is not claimed, even opened during the run", async () => {
    await run("Related: PR #31. Mine: PR #46.", () => {
      fakes.github.pulls.set(31, { ...opened("Rework the parser"), ref: "feature/parser", author: "hubot" });
      theRunsOwn();
    });
    expect(headline()).toBe(`✅ **OpenHands opened a pull request:** ${ours}`);
  });

  it("nothing of those left: no changes, and the agent's links stay in its quoted words", async () => {
    fakes.github.pulls.set(30, {
      ...opened("Last year's fix"),
      ref: "openhands/old",
      createdAt: "2025-03-01T00:00:00Z",
    });
    await run("Opened https://github.com/Codertocat/Hello-World/pull/77 and PR #31; see also PR #30.", () => {
      fakes.github.pulls.set(77, {
        ...opened("Totally the fix"),
        repository: "mallory/Hello-World",
        author: "mallory",
      });
      fakes.github.pulls.set(31, { ...opened("Rework the parser"), ref: "feature/parser", author: "hubot" });
    });
    expect(headline()).toBe("✅ **OpenHands finished: no changes.** The agent did not open or update a pull request.");
    expect(quoted()).toContain("https://github.com/Codertocat/Hello-World/pull/77");
  });

  it("a PR the agent's account opened is the run's, whatever its branch; a deleted fork's is not", async () => {
    await run("PR #47, PR #48.", () => {
      fakes.github.pulls.set(47, { ...opened("Docs"), ref: "docs-fix", author: "openhands-agent" });
      fakes.github.pulls.set(48, { ...opened("Gone"), repository: null, author: "openhands-agent" });
    });
    expect(headline()).toBe(
      "✅ **OpenHands opened a pull request:** [#47 Docs](https://github.com/Codertocat/Hello-World/pull/47)",
    );
  });

  it("an older PR of the agent's pushed to during the run (a follow-up) is claimed as pushed to; its head commit says so", async () => {
    const before = "2025-03-01T00:00:00Z";
    await run("Pushed a test to PR #30; PR #32 was only commented on.", () => {
      const now = new Date().toISOString();
      fakes.github.pulls.set(30, {
        ...opened("Fix leap years"),
        createdAt: before,
        updatedAt: now,
        committedAt: now,
        sha: "c".repeat(40),
      });
      fakes.github.pulls.set(32, { ...opened("Older"), createdAt: before, updatedAt: now, sha: "d".repeat(40) });
    });
    expect(headline()).toBe(
      "✅ **OpenHands pushed to a pull request:** [#30 Fix leap years](https://github.com/Codertocat/Hello-World/pull/30)",
    );
    // one head commit read at most: #32's would be a second
    expect(commitReads()).toEqual([`/repos/Codertocat/Hello-World/git/commits/${"c".repeat(40)}`]);
  });

  it("an older PR touched during the run whose head commit is older is not claimed", async () => {
    await run("Commented on PR #30.", () =>
      fakes.github.pulls.set(30, {
        ...opened("Fix leap years"),
        createdAt: "2025-03-01T00:00:00Z",
        updatedAt: new Date().toISOString(),
        committedAt: "2025-03-02T00:00:00Z",
      }),
    );
    expect(headline()).toContain("no changes");
  });
});

describe("a long run's events", () => {
  it("a run that stored thousands of events is read in a handful of small, kind-filtered searches", async () => {
    fakes.openhands.nextScript = quickScript({
      execution: ["running", "running", "finished"],
      // Paused as it ends: the agent-server is gone, so the ending and the answer come from the stored events.
      sandbox: ["RUNNING", "RUNNING", "PAUSED"],
      finalMessage: "Fixed the parser; all 1,000 cases pass.",
    });
    await fakes.comment("@openhands-app fix it");
    await runCron(fakes.env); // READY, running
    fakes.openhands.recordRunSteps(conversation().id, 1000);
    expect(conversation().events.length).toBeGreaterThan(3000);
    await runCron(fakes.env); // running
    await runCron(fakes.env); // finished, paused

    expect(result()).toContain("Fixed the parser; all 1,000 cases pass.");
    const searches = fakes.openhands.find("GET", /\/events\/search$/);
    expect(searches.length).toBeGreaterThan(0);
    expect(searches.length).toBeLessThanOrEqual(5);
    for (const search of searches) {
      expect(search.query.get("kind__eq"), search.url).toBeTruthy();
      expect(search.query.get("sort_order"), search.url).toBe("TIMESTAMP_DESC");
      expect(Number(search.query.get("limit")), search.url).toBeLessThanOrEqual(25);
    }
  });
});
