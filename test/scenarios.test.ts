import { beforeEach, describe, expect, it } from "vitest";
import { FakeOpenHands } from "./support/fakes/openhands";
import { effectfulGitHubCalls, kvWithoutConfigCache, runCron } from "./support/harness";
import { quickScript, startWorld, type World } from "./support/world";

let world: World;
beforeEach(() => {
  world = startWorld({ role: "maintain", script: FakeOpenHands.defaultScript() });
});

describe("who may trigger", () => {
  it("a read-only sender starts nothing and gets a polite reply", async () => {
    world.github.permissions.set("codertocat", "read");
    const response = await world.comment("@openhands-app fix it");
    expect(response.status).toBe(202);
    expect(world.github.find("GET", /\/collaborators\/Codertocat\/permission$/)).toHaveLength(1);
    expect(world.openhands.requests).toEqual([]);
    expect(world.github.reactions).toEqual([]);
    expect(world.comments().map((c) => c.body)).toEqual([
      "Sorry @Codertocat, only people with write, maintain or admin access to this repository can ask OpenHands to work on it.\n<!-- openhands-github-app not-allowed:codertocat -->",
    ]);
    // nothing kept: a redelivery meets the cached verdict, and the reply is said once a day
    expect(await world.tasks()).toEqual([]);
    expect(await world.received()).toEqual([]);
  });

  it("a triage sender is read-only too", async () => {
    world.github.permissions.set("codertocat", "triage");
    await world.comment("@openhands-app fix it");
    expect(world.openhands.requests).toEqual([]);
  });

  it("a bot sender triggers nothing: no reaction, no comment, no permission check, no conversation", async () => {
    const response = await world.comment("@openhands-app fix it", {
      sender: { login: "openhands-app[bot]", type: "Bot" },
    });
    expect(response.status).toBe(202);
    // only the repository config was read (it may allow some bots)
    expect(effectfulGitHubCalls(world.github)).toEqual([]);
    expect(world.openhands.requests).toEqual([]);
    expect(await kvWithoutConfigCache(world.env)).toEqual([]);
    // once the config is known, the answer itself says why
    const again = await world.comment("@openhands-app fix it", {
      sender: { login: "openhands-app[bot]", type: "Bot" },
    });
    expect(await again.json()).toEqual({ ok: true, ignored: "sender is a bot" });
  });

  it("a mention only inside code or a quote starts nothing", async () => {
    for (const body of [
      "Use `@openhands-app fix` to ask",
      "```\n@openhands-app fix\n```",
      "> @openhands-app fix it\n\nThat worked",
    ]) {
      await world.comment(body);
    }
    expect(effectfulGitHubCalls(world.github)).toEqual([]);
    expect(world.openhands.requests).toEqual([]);
    expect(await kvWithoutConfigCache(world.env)).toEqual([]);
  });
});

describe("pull requests", () => {
  it("a comment on a PR works on the PR's head branch", async () => {
    world.github.pulls.set(1, { ref: "fix/leap-year", repository: "Codertocat/Hello-World", baseRef: "main" });
    await world.comment("@openhands-app the tests fail, please fix", { pullRequest: true });
    expect(world.github.find("GET", /\/pulls\/1$/)).toHaveLength(1);
    const start = world.openhands.find("POST", /^\/api\/v1\/app-conversations$/)[0]!.body as Record<string, any>;
    expect(start.selected_branch).toBe("fix/leap-year");
    expect(start.pr_number).toEqual([1]);
    expect(start.initial_message.content[0].text).toContain("pull request #1");
    expect(start.initial_message.content[0].text).toContain("push your changes to that branch");
    expect((await world.tasks())[0]).toMatchObject({ request: { isPullRequest: true }, branch: "fix/leap-year" });
  });

  it("a PR from a fork starts nothing and says why", async () => {
    world.github.pulls.set(1, { ref: "patch-1", repository: "someone/Hello-World", baseRef: "main" });
    await world.comment("@openhands-app fix", { pullRequest: true });
    expect(world.openhands.requests).toEqual([]);
    expect(world.comments().at(-1)!.body).toContain("not in a fork");
  });
});

describe("outcomes", () => {
  it("a start that ends in ERROR reports the service's detail", async () => {
    world.openhands.nextScript = {
      start: "ERROR",
      startSteps: ["WORKING"],
      startErrorDetail: "Failed to clone repository Codertocat/Hello-World",
    };
    await world.comment("@openhands-app fix it");
    const [ended] = await world.tickUntilEnded();
    expect(ended!.status).toBe("failed");
    expect(world.comments()).toHaveLength(1);
    expect(world.comments()[0]!.body).toContain("could not complete this request");
    expect(world.comments()[0]!.body).toContain("Failed to clone repository Codertocat/Hello-World");
    // before failing, that the error is not "that conversation already exists"
    expect(world.openhands.find("GET", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
  });

  it("a conversation that ends in error reports the error event and the agent's last words", async () => {
    world.openhands.nextScript = {
      start: "READY",
      startSteps: ["WORKING"],
      execution: ["running", "error"],
      error: { code: "LLMBadRequestError", detail: "Budget exceeded for this user" },
      finalMessage: "I ran out of budget halfway.",
    };
    await world.comment("@openhands-app fix it");
    const [ended] = await world.tickUntilEnded();
    expect(ended!.status).toBe("failed");
    const body = world.comments()[0]!.body;
    expect(body).toContain("the agent run ended with an error (LLMBadRequestError: Budget exceeded for this user)");
    expect(body).toContain("I ran out of budget halfway.");
  });

  it("a stuck agent is reported as a failure", async () => {
    world.openhands.nextScript = { start: "READY", startSteps: ["WORKING"], execution: ["running", "stuck"] };
    await world.comment("@openhands-app fix it");
    const [ended] = await world.tickUntilEnded();
    expect(ended!.status).toBe("failed");
    expect(world.comments()[0]!.body).toContain("the agent got stuck in a loop");
  });

  it("waiting for confirmation says so once, then reports the result when it finishes", async () => {
    world.openhands.nextScript = quickScript({
      execution: ["running", "waiting_for_confirmation", "waiting_for_confirmation", "running", "finished"],
    });
    await world.comment("@openhands-app fix it");
    await runCron(world.env); // READY + running
    await runCron(world.env); // waiting
    expect(world.comments()[0]!.body).toContain("OpenHands needs your input");
    const patches = world.github.find("PATCH", /\/issues\/comments\/\d+$/).length;
    await runCron(world.env); // still waiting: no new edit, no KV write
    expect(world.github.find("PATCH", /\/issues\/comments\/\d+$/)).toHaveLength(patches);
    const [ended] = await world.tickUntilEnded();
    expect(ended!.status).toBe("succeeded");
    expect(world.comments()).toHaveLength(1);
    expect(world.comments()[0]!.body).toContain("OpenHands finished");
  });

  it("a paused sandbox is resolved from the persisted events", async () => {
    world.openhands.nextScript = quickScript({
      execution: ["running", "finished", "finished"],
      sandbox: ["RUNNING", "RUNNING", "PAUSED"],
    });
    await world.comment("@openhands-app fix it");
    await runCron(world.env); // READY, running
    // The concurrency cap pauses the sandbox before we see "finished" while it runs.
    const conversation = [...world.openhands.conversations.values()][0]!;
    conversation.reads = 1; // next read: finished (events recorded), then PAUSED
    await runCron(world.env);
    const [ended] = await world.tickUntilEnded();
    expect(ended!.status).toBe("succeeded");
    expect(world.comments()[0]!.body).toContain("Opened PR #42");
  });

  it("a start that never ends times out with a message", async () => {
    world.openhands.nextScript = { start: "READY", startSteps: Array(50).fill("WAITING_FOR_SANDBOX") };
    await world.comment("@openhands-app fix it");
    await runCron(world.env);
    await runCron(world.env, new Date(Date.now() + 16 * 60_000));
    const [ended] = await world.tasks();
    expect(ended!.status).toBe("timed_out");
    expect(world.comments()[0]!.body).toContain("OpenHands did not start within");
  });

  it("a run that never ends times out after RUN_TIMEOUT_MINUTES", async () => {
    world.openhands.nextScript = { start: "READY", startSteps: ["WORKING"], execution: ["running"] };
    const env = { ...world.env, RUN_TIMEOUT_MINUTES: "30" };
    world.env = env;
    await world.comment("@openhands-app fix it");
    await runCron(env);
    await runCron(env, new Date(Date.now() + 20 * 60_000));
    expect((await world.tasks())[0]!.status).toBe("starting"); // running; that step is not written
    await runCron(env, new Date(Date.now() + 31 * 60_000));
    expect((await world.tasks())[0]!.status).toBe("timed_out");
    expect(world.comments()[0]!.body).toContain("OpenHands did not finish within");
  });
});

describe("a failing OpenHands start loses no task", () => {
  it("429 on start queues the task, says so, and the cron starts it later", async () => {
    world.openhands.failNext(
      "POST",
      /^\/api\/v1\/app-conversations$/,
      () =>
        new Response(JSON.stringify({ error: "Rate limit exceeded: 100 per 1 minute" }), {
          status: 429,
          headers: { "content-type": "application/json", "retry-after": "30", "x-ratelimit-remaining": "0" },
        }),
    );
    await world.comment("@openhands-app fix it");
    let [task] = await world.tasks();
    expect(task).toMatchObject({ status: "queued", attempts: 1 });
    expect(task!.lastError).toContain("Rate limit exceeded");
    expect(world.comments()[0]!.body).toContain("could not start yet");

    await runCron(world.env); // not due yet: no new start
    expect(world.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);

    await runCron(world.env, new Date(Date.now() + 2 * 60_000));
    // an earlier attempt might have reached the service: look it up before starting again,
    // by the conversation id and by our own start tasks since the request (never by
    // conversation_id__eq, which only finds READY starts)
    expect(world.openhands.find("GET", /^\/api\/v1\/app-conversations$/)[0]!.query.getAll("ids")).toEqual([task!.id]);
    const search = world.openhands.find("GET", /start-tasks\/search$/)[0]!.query;
    expect(search.get("conversation_id__eq")).toBeNull();
    expect(Date.parse(search.get("created_at__gte")!)).toBeLessThanOrEqual(Date.parse(task!.createdAt));
    expect(world.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(2);
    [task] = await world.tasks();
    expect(task!.status).toBe("starting");
    const [ended] = await world.tickUntilEnded();
    expect(ended!.status).toBe("succeeded");
    expect(world.comments()).toHaveLength(1);
  });

  it("a 422 from the service fails the task at once with its message", async () => {
    world.openhands.failNext(
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
    await world.comment("@openhands-app fix it");
    expect((await world.tasks())[0]!.status).toBe("failed");
    expect(world.comments()[0]!.body).toContain("Input should be a valid UUID");
  });

  it("a start recorded by the service but not by us is adopted, not started twice", async () => {
    // The service answers 502 although it created the start task.
    world.openhands.failNext("POST", /^\/api\/v1\/app-conversations$/, async () => {
      await world.openhands.handle(
        new Request(`${world.openhands.baseUrl}/api/v1/app-conversations`, {
          method: "POST",
          headers: { authorization: `Bearer ${world.env.OPENHANDS_API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify(world.openhands.find("POST", /^\/api\/v1\/app-conversations$/)[0]!.body),
        }),
      );
      return new Response("<html>Bad gateway</html>", { status: 502 });
    });
    await world.comment("@openhands-app fix it");
    expect((await world.tasks())[0]!.status).toBe("queued");
    await runCron(world.env, new Date(Date.now() + 2 * 60_000));
    expect(world.openhands.startTasks.size).toBe(1);
    expect((await world.tasks())[0]!.status).toBe("starting");
  });
});
