import { beforeEach, describe, expect, it } from "vitest";
import { FakeOpenHands } from "./support/fakes/openhands";
import {
  callWorker,
  effectfulGitHubCalls,
  issueCommentPayload,
  kvSnapshot,
  kvWithoutConfigCache,
  runCron,
  signedWebhook,
  startFakes,
} from "./support/harness";

let fakes: ReturnType<typeof startFakes>;
beforeEach(() => {
  fakes = startFakes();
  fakes.github.permissions.set("codertocat", "maintain");
});

async function comment(body: string, options: Parameters<typeof issueCommentPayload>[1] = {}) {
  const payload = issueCommentPayload(body, options);
  const response = await callWorker(await signedWebhook("issue_comment", payload), fakes.env);
  return { payload, response };
}

function thread() {
  return fakes.github.commentsOn("Codertocat", "Hello-World", 1);
}

async function tasks() {
  return (await kvSnapshot(fakes.env)).filter((e) => e.name.startsWith("task:")).map((e) => JSON.parse(e.value!));
}

async function tickUntilEnded(max = 10) {
  for (let i = 0; i < max; i++) {
    await runCron(fakes.env);
    const all = await tasks();
    if (all.length && all.every((t) => ["succeeded", "failed", "timed_out"].includes(t.status))) return all;
  }
  throw new Error("task did not end");
}

describe("who may trigger", () => {
  it("a read-only sender starts nothing and gets a polite reply", async () => {
    fakes.github.permissions.set("codertocat", "read");
    const { response } = await comment("@openhands-app fix it");
    expect(response.status).toBe(202);
    expect(fakes.github.find("GET", /\/collaborators\/Codertocat\/permission$/)).toHaveLength(1);
    expect(fakes.openhands.requests).toEqual([]);
    expect(fakes.github.reactions).toEqual([]);
    expect(thread().map((c) => c.body)).toEqual([
      "Sorry @Codertocat, only people with write, maintain or admin access to this repository can ask OpenHands to work on it.\n<!-- openhands-github-app not-allowed:codertocat -->",
    ]);
    // nothing kept: a redelivery meets the cached verdict, and the reply is said once a day
    expect(await tasks()).toEqual([]);
  });

  it("a triage sender is read-only too", async () => {
    fakes.github.permissions.set("codertocat", "triage");
    await comment("@openhands-app fix it");
    expect(fakes.openhands.requests).toEqual([]);
  });

  it("a bot sender triggers nothing: no reaction, no comment, no permission check, no conversation", async () => {
    const { response } = await comment("@openhands-app fix it", {
      sender: { login: "openhands-app[bot]", type: "Bot" },
    });
    expect(response.status).toBe(202);
    // only the repository config was read (it may allow some bots)
    expect(effectfulGitHubCalls(fakes.github)).toEqual([]);
    expect(fakes.openhands.requests).toEqual([]);
    expect(await kvWithoutConfigCache(fakes.env)).toEqual([]);
    // once the config is known, the answer itself says why
    const again = await comment("@openhands-app fix it", { sender: { login: "openhands-app[bot]", type: "Bot" } });
    expect(await again.response.json()).toEqual({ ok: true, ignored: "sender is a bot" });
  });

  it("a mention only inside code or a quote starts nothing", async () => {
    for (const body of [
      "Use `@openhands-app fix` to ask",
      "```\n@openhands-app fix\n```",
      "> @openhands-app fix it\n\nThat worked",
    ]) {
      await comment(body);
    }
    expect(effectfulGitHubCalls(fakes.github)).toEqual([]);
    expect(fakes.openhands.requests).toEqual([]);
    expect(await kvWithoutConfigCache(fakes.env)).toEqual([]);
  });
});

describe("pull requests", () => {
  it("a comment on a PR works on the PR's head branch", async () => {
    fakes.github.pulls.set(1, { ref: "fix/leap-year", repository: "Codertocat/Hello-World", baseRef: "main" });
    await comment("@openhands-app the tests fail, please fix", { pullRequest: true });
    expect(fakes.github.find("GET", /\/pulls\/1$/)).toHaveLength(1);
    const start = fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)[0]!.body as Record<string, any>;
    expect(start.selected_branch).toBe("fix/leap-year");
    expect(start.pr_number).toEqual([1]);
    expect(start.initial_message.content[0].text).toContain("pull request #1");
    expect(start.initial_message.content[0].text).toContain("push your changes to that branch");
    expect((await tasks())[0]).toMatchObject({ request: { isPullRequest: true }, branch: "fix/leap-year" });
  });

  it("a PR from a fork starts nothing and says why", async () => {
    fakes.github.pulls.set(1, { ref: "patch-1", repository: "someone/Hello-World", baseRef: "main" });
    await comment("@openhands-app fix", { pullRequest: true });
    expect(fakes.openhands.requests).toEqual([]);
    expect(thread().at(-1)!.body).toContain("not in a fork");
  });
});

describe("outcomes", () => {
  it("a start that ends in ERROR reports the service's detail", async () => {
    fakes.openhands.nextScript = {
      start: "ERROR",
      startSteps: ["WORKING"],
      startErrorDetail: "Failed to clone repository Codertocat/Hello-World",
    };
    await comment("@openhands-app fix it");
    const [ended] = await tickUntilEnded();
    expect(ended.status).toBe("failed");
    expect(thread()).toHaveLength(1);
    expect(thread()[0]!.body).toContain("could not complete this request");
    expect(thread()[0]!.body).toContain("Failed to clone repository Codertocat/Hello-World");
    // before failing, that the error is not "that conversation already exists"
    expect(fakes.openhands.find("GET", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
  });

  it("a conversation that ends in error reports the error event and the agent's last words", async () => {
    fakes.openhands.nextScript = {
      start: "READY",
      startSteps: ["WORKING"],
      execution: ["running", "error"],
      error: { code: "LLMBadRequestError", detail: "Budget exceeded for this user" },
      finalMessage: "I ran out of budget halfway.",
    };
    await comment("@openhands-app fix it");
    const [ended] = await tickUntilEnded();
    expect(ended.status).toBe("failed");
    const body = thread()[0]!.body;
    expect(body).toContain("the agent run ended with an error (LLMBadRequestError: Budget exceeded for this user)");
    expect(body).toContain("I ran out of budget halfway.");
  });

  it("a stuck agent is reported as a failure", async () => {
    fakes.openhands.nextScript = { start: "READY", startSteps: ["WORKING"], execution: ["running", "stuck"] };
    await comment("@openhands-app fix it");
    const [ended] = await tickUntilEnded();
    expect(ended.status).toBe("failed");
    expect(thread()[0]!.body).toContain("the agent got stuck in a loop");
  });

  it("waiting for confirmation says so once, then reports the result when it finishes", async () => {
    fakes.openhands.nextScript = {
      ...FakeOpenHands.defaultScript(),
      startSteps: ["WORKING"],
      execution: ["running", "waiting_for_confirmation", "waiting_for_confirmation", "running", "finished"],
    };
    await comment("@openhands-app fix it");
    await runCron(fakes.env); // READY + running
    await runCron(fakes.env); // waiting
    expect(thread()[0]!.body).toContain("OpenHands needs your input");
    const patches = fakes.github.find("PATCH", /\/issues\/comments\/\d+$/).length;
    await runCron(fakes.env); // still waiting: no new edit, no KV write
    expect(fakes.github.find("PATCH", /\/issues\/comments\/\d+$/)).toHaveLength(patches);
    const [ended] = await tickUntilEnded();
    expect(ended.status).toBe("succeeded");
    expect(thread()).toHaveLength(1);
    expect(thread()[0]!.body).toContain("OpenHands finished");
  });

  it("a paused sandbox is resolved from the persisted events", async () => {
    fakes.openhands.nextScript = {
      ...FakeOpenHands.defaultScript(),
      startSteps: ["WORKING"],
      execution: ["running", "finished", "finished"],
      sandbox: ["RUNNING", "RUNNING", "PAUSED"],
    };
    await comment("@openhands-app fix it");
    await runCron(fakes.env); // READY, running
    // The concurrency cap pauses the sandbox before we see "finished" while it runs.
    const conversation = [...fakes.openhands.conversations.values()][0]!;
    conversation.reads = 1; // next read: finished (events recorded), then PAUSED
    await runCron(fakes.env);
    const [ended] = await tickUntilEnded();
    expect(ended.status).toBe("succeeded");
    expect(thread()[0]!.body).toContain("Opened PR #42");
  });

  it("a start that never ends times out with a message", async () => {
    fakes.openhands.nextScript = { start: "READY", startSteps: Array(50).fill("WAITING_FOR_SANDBOX") };
    await comment("@openhands-app fix it");
    await runCron(fakes.env);
    await runCron(fakes.env, new Date(Date.now() + 16 * 60_000));
    const [ended] = await tasks();
    expect(ended.status).toBe("timed_out");
    expect(thread()[0]!.body).toContain("OpenHands did not start within");
  });

  it("a run that never ends times out after RUN_TIMEOUT_MINUTES", async () => {
    fakes.openhands.nextScript = { start: "READY", startSteps: ["WORKING"], execution: ["running"] };
    const env = { ...fakes.env, RUN_TIMEOUT_MINUTES: "30" };
    fakes.env = env;
    await comment("@openhands-app fix it");
    await runCron(env);
    await runCron(env, new Date(Date.now() + 20 * 60_000));
    expect((await tasks())[0].status).toBe("starting"); // running; that step is not written
    await runCron(env, new Date(Date.now() + 31 * 60_000));
    expect((await tasks())[0].status).toBe("timed_out");
    expect(thread()[0]!.body).toContain("OpenHands did not finish within");
  });
});

describe("exactly once", () => {
  it("two overlapping cron runs post one result", async () => {
    fakes.openhands.nextScript = { ...FakeOpenHands.defaultScript(), startSteps: ["WORKING"], execution: ["finished"] };
    await comment("@openhands-app fix it");
    await Promise.all([runCron(fakes.env), runCron(fakes.env)]);
    await Promise.all([runCron(fakes.env), runCron(fakes.env)]);
    expect(thread()).toHaveLength(1);
    expect(fakes.github.find("POST", /\/issues\/1\/comments$/)).toHaveLength(1);
    expect(thread()[0]!.body).toContain("OpenHands finished");
    expect((await tasks())[0].status).toBe("succeeded");
  });

  it("the same delivery twice starts one conversation", async () => {
    const payload = issueCommentPayload("@openhands-app fix it");
    const request = await signedWebhook("issue_comment", payload, { delivery: "same-delivery" });
    await callWorker(request.clone(), fakes.env);
    await callWorker(request, fakes.env);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
    expect(thread()).toHaveLength(1);
  });
});

describe("a failing OpenHands start loses no task", () => {
  it("429 on start queues the task, says so, and the cron starts it later", async () => {
    fakes.openhands.failNext(
      "POST",
      /^\/api\/v1\/app-conversations$/,
      () =>
        new Response(JSON.stringify({ error: "Rate limit exceeded: 100 per 1 minute" }), {
          status: 429,
          headers: { "content-type": "application/json", "retry-after": "30", "x-ratelimit-remaining": "0" },
        }),
    );
    await comment("@openhands-app fix it");
    let [task] = await tasks();
    expect(task).toMatchObject({ status: "queued", attempts: 1 });
    expect(task.lastError).toContain("Rate limit exceeded");
    expect(thread()[0]!.body).toContain("could not start yet");

    await runCron(fakes.env); // not due yet: no new start
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);

    await runCron(fakes.env, new Date(Date.now() + 2 * 60_000));
    // an earlier attempt might have reached the service: look it up before starting again,
    // by the conversation id and by our own start tasks since the request (never by
    // conversation_id__eq, which only finds READY starts)
    expect(fakes.openhands.find("GET", /^\/api\/v1\/app-conversations$/)[0]!.query.getAll("ids")).toEqual([task.id]);
    const search = fakes.openhands.find("GET", /start-tasks\/search$/)[0]!.query;
    expect(search.get("conversation_id__eq")).toBeNull();
    expect(Date.parse(search.get("created_at__gte")!)).toBeLessThanOrEqual(Date.parse(task.createdAt));
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(2);
    [task] = await tasks();
    expect(task.status).toBe("starting");
    const [ended] = await tickUntilEnded();
    expect(ended.status).toBe("succeeded");
    expect(thread()).toHaveLength(1);
  });

  it("a 422 from the service fails the task at once with its message", async () => {
    fakes.openhands.failNext(
      "POST",
      /^\/api\/v1\/app-conversations$/,
      () =>
        new Response(
          JSON.stringify({
            detail: [
              {
                type: "uuid_parsing",
                loc: ["body", "conversation_id"],
                msg: "Input should be a valid UUID",
                input: "x",
              },
            ],
          }),
          { status: 422 },
        ),
    );
    await comment("@openhands-app fix it");
    expect((await tasks())[0].status).toBe("failed");
    expect(thread()[0]!.body).toContain("Input should be a valid UUID");
  });

  it("a start recorded by the service but not by us is adopted, not started twice", async () => {
    // The service answers 502 although it created the start task.
    fakes.openhands.failNext("POST", /^\/api\/v1\/app-conversations$/, async () => {
      await fakes.openhands.handle(
        new Request(`${fakes.openhands.baseUrl}/api/v1/app-conversations`, {
          method: "POST",
          headers: { authorization: `Bearer ${fakes.env.OPENHANDS_API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)[0]!.body),
        }),
      );
      return new Response("<html>Bad gateway</html>", { status: 502 });
    });
    await comment("@openhands-app fix it");
    expect((await tasks())[0].status).toBe("queued");
    await runCron(fakes.env, new Date(Date.now() + 2 * 60_000));
    expect(fakes.openhands.startTasks.size).toBe(1);
    expect((await tasks())[0].status).toBe("starting");
  });
});
