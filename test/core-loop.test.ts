import { beforeEach, describe, expect, it } from "vitest";
import { FakeOpenHands } from "./support/fakes/openhands";
import { issueCommentPayload, kvSnapshot, runCron } from "./support/harness";
import { startWorld, type World } from "./support/world";

describe("an @openhands-app comment, from webhook to result", () => {
  let fakes: World;
  beforeEach(() => {
    fakes = startWorld({
      role: "admin",
      script: { ...FakeOpenHands.defaultScript(), startSteps: ["WORKING", "WAITING_FOR_SANDBOX"] },
    });
  });

  it("starts a conversation, tracks it in KV and updates the tracking comment with the result", async () => {
    const { github, openhands, env } = fakes;
    const payload = issueCommentPayload(
      "@openhands-app the date parser fails on leap years, please fix it and add a test",
    );

    const response = await fakes.deliver("issue_comment", payload);
    expect(response.status).toBe(202);

    // 👀 on the triggering comment
    expect(github.reactions).toEqual([
      { owner: "Codertocat", repo: "Hello-World", subject: "issue_comment", id: payload.comment.id, content: "eyes" },
    ]);

    // the start request, to the letter of the V1 API
    const starts = openhands.find("POST", /^\/api\/v1\/app-conversations$/);
    expect(starts).toHaveLength(1);
    const start = starts[0]!;
    expect(start.headers.authorization).toBe(`Bearer ${env.OPENHANDS_API_KEY}`);
    const body = start.body as Record<string, any>;
    expect(body).toMatchObject({
      selected_repository: "Codertocat/Hello-World",
      git_provider: "github",
      trigger: "openhands_api",
    });
    expect(body.selected_branch).toBeUndefined();
    expect(body.conversation_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.initial_message.content).toHaveLength(1);
    const prompt: string = body.initial_message.content[0].text;
    expect(body.initial_message.content[0]).toEqual({ type: "text", text: prompt });
    expect(prompt).toContain("the date parser fails on leap years, please fix it and add a test");
    expect(prompt).not.toMatch(/@openhands\b/i);
    expect(prompt).toContain("issue #1 in Codertocat/Hello-World");
    expect(prompt).toContain(`Title: ${payload.issue.title}`);
    const conversationId = body.conversation_id.replace(/-/g, "");

    // one tracking comment, with the conversation's link
    const comments = github.commentsOn("Codertocat", "Hello-World", 1);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("OpenHands is working on it");
    expect(comments[0]!.body).toContain(`https://app.all-hands.dev/conversations/${conversationId}`);

    // the task in KV, status in the key's metadata
    const startTaskId = Array.from(openhands.startTasks.keys())[0]!;
    let kv = await kvSnapshot(env);
    const taskEntry = kv.find((e) => e.name === `task:${conversationId}`)!;
    expect(taskEntry.metadata).toEqual({
      s: "starting",
      c: expect.any(Number),
      t: "codertocat/hello-world#1",
      i: payload.installation.id,
      st: expect.any(Number),
    });
    expect(JSON.parse(taskEntry.value!)).toMatchObject({
      id: conversationId,
      request: {
        triggerKey: `issue_comment:${payload.comment.id}`,
        repository: "Codertocat/Hello-World",
        number: 1,
        isPullRequest: false,
        installationId: payload.installation.id,
        requester: "Codertocat",
        kind: "comment",
        reactTo: { type: "issue_comment", id: payload.comment.id },
        request: "the date parser fails on leap years, please fix it and add a test",
      },
      verified: true,
      startTaskId,
      trackingCommentId: comments[0]!.id,
      status: "starting",
      attempts: 1,
    });
    expect(kv.map((e) => e.name).sort()).toEqual([
      "app:identity",
      "poll:active",
      "repo-config:v3:codertocat/hello-world",
      `task:${conversationId}`,
    ]);

    // cron ticks until the agent is done
    await runCron(env); // WAITING_FOR_SANDBOX
    await runCron(env); // READY, conversation idle
    // Running, but the record still says "starting": every tick reads the conversation
    // anyway, so that step costs no KV write.
    expect(JSON.parse((await env.TASKS.get(`task:${conversationId}`))!).status).toBe("starting");
    await runCron(env); // running
    // the draft pull request the agent opens
    github.pulls.set(42, {
      ref: "openhands/fix-leap-years",
      repository: "Codertocat/Hello-World",
      baseRef: "main",
      title: "Fix leap years in parseDate",
      draft: true,
      createdAt: new Date().toISOString(),
    });
    await runCron(env); // finished

    const startReads = openhands.find("GET", /^\/api\/v1\/app-conversations\/start-tasks$/);
    expect(startReads.map((r) => r.query.getAll("ids"))).toEqual([[startTaskId], [startTaskId]]);
    const convReads = openhands.find("GET", /^\/api\/v1\/app-conversations$/);
    // read while starting too, first: the conversation, not the start task, is the truth. The
    // start task is read only while no conversation shows; the tick it turns READY reads the
    // conversation again, so the run is followed at once.
    // A request made moments ago cannot be a replay of an ended one (its record would be
    // there): no read before the start.
    expect(convReads.map((r) => r.query.getAll("ids"))).toEqual([
      [conversationId],
      [conversationId],
      [conversationId],
      [conversationId],
      [conversationId],
    ]);
    expect(openhands.find("GET", /agent_final_response$/)[0]!.headers["x-session-api-key"]).toBe(openhands.sessionKey);

    const after = github.commentsOn("Codertocat", "Hello-World", 1);
    expect(after).toHaveLength(1);
    // what it produced comes first, read back from GitHub
    expect(after[0]!.body.split("\n")[0]).toBe(
      "✅ **OpenHands opened a pull request:** [#42 Fix leap years in parseDate](https://github.com/Codertocat/Hello-World/pull/42) (draft)",
    );
    // the agent's own link is shown as code: only the App's line, read back from GitHub, links
    expect(after[0]!.body).toContain("Opened PR #42: `https://github.com/Codertocat/Hello-World/pull/42`");
    expect(after[0]!.body).toContain(`https://app.all-hands.dev/conversations/${conversationId}`);

    kv = await kvSnapshot(env);
    const ended = kv.find((e) => e.name === `task:${conversationId}`)!;
    expect(ended.metadata).toMatchObject({ s: "succeeded" });
    expect(JSON.parse(ended.value!).outcome.summary).toContain("Opened PR #42");

    // the whole cost of one task, from the comment to the result
    const calls = (fake: typeof github | typeof openhands) => fake.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls(github)).toEqual([
      // which account the App serves (its owner, with the App's JWT): once a day, not per task
      "GET /app",
      `POST /app/installations/${payload.installation.id}/access_tokens`,
      // .github/openhands.yml: the repository's, then the organisation's (both absent here)
      "GET /repos/Codertocat/Hello-World/contents/.github%2Fopenhands.yml",
      "GET /repos/Codertocat/.github/contents/.github%2Fopenhands.yml",
      "GET /repos/Codertocat/Hello-World/collaborators/Codertocat/permission",
      // the discussion so far, for the prompt; then 👀, once nothing before it can fail
      "GET /repos/Codertocat/Hello-World/issues/1/comments",
      "POST /repos/Codertocat/Hello-World/issues/comments/492700400/reactions",
      // no tracking comment from an earlier attempt: post one
      "GET /repos/Codertocat/Hello-World/issues/1/comments",
      "POST /repos/Codertocat/Hello-World/issues/1/comments",
      // the pull request the final message names, read back for its title and state
      "GET /repos/Codertocat/Hello-World/pulls/42",
      `PATCH /repos/Codertocat/Hello-World/issues/comments/${comments[0]!.id}`,
    ]);
    expect(calls(openhands)).toEqual([
      "POST /api/v1/app-conversations",
      // which GitHub account the agent writes as: learnt by the first tick, then once a day
      "GET /api/v1/users/git-info",
      // each tick reads the conversation first, the start task only while no conversation
      // shows, and the conversation again on the tick its start turns READY
      "GET /api/v1/app-conversations",
      "GET /api/v1/app-conversations/start-tasks",
      "GET /api/v1/app-conversations",
      "GET /api/v1/app-conversations/start-tasks",
      "GET /api/v1/app-conversations",
      "GET /api/v1/app-conversations",
      "GET /api/v1/app-conversations",
      `GET /api/conversations/${conversationId}/agent_final_response`,
    ]);
    const patch = github.find("PATCH", /\/issues\/comments\/\d+$/)[0]!;
    expect((patch.body as { body: string }).body).toBe(after[0]!.body);

    // an ended task costs nothing more: later ticks make no OpenHands call
    const before = openhands.requests.length;
    await runCron(env);
    expect(openhands.requests.length).toBe(before);
  });
});
