import { describe, expect, it } from "vitest";
import {
  type ConversationScript,
  FakeOpenHands,
  type FakeOpenHandsOptions,
  SANDBOX_NOT_FOUND_BODY,
} from "./support/fakes/openhands";

// Self-checks of the OpenHands fake alone: requests go straight to its handle().

const BASE = "https://app.all-hands.dev";
const KEY = "oh_test_api_key_0123456789";
const QUICK: ConversationScript = {
  start: "READY",
  startSteps: ["WORKING"],
  execution: ["running", "running", "finished"],
  finalMessage: "done",
};

// The rate limiter has its own checks (below); the others make their calls faster than it allows.
function fake(options: FakeOpenHandsOptions = {}, script: ConversationScript = QUICK) {
  const oh = new FakeOpenHands({ rateLimit: false, ...options });
  oh.nextScript = script;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = (await oh.handle(
      new Request(BASE + path, {
        method,
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      }),
    ))!;
    const text = await response.text();
    let data: any = text;
    try {
      data = JSON.parse(text);
    } catch {
      // plain text
    }
    return { status: response.status, body: data };
  };
  const start = (body: Record<string, unknown> = {}) =>
    call("POST", "/api/v1/app-conversations", {
      initial_message: { content: [{ type: "text", text: "fix it" }] },
      selected_repository: "acme/widgets",
      ...body,
    });
  const tasks = async (...ids: string[]) =>
    (await call("GET", `/api/v1/app-conversations/start-tasks?${ids.map((i) => `ids=${i}`).join("&")}`)).body;
  const conversation = async (id: string) => (await call("GET", `/api/v1/app-conversations?ids=${id}`)).body[0];
  /** Reads the task until it is READY or ERROR (or `max` reads). */
  const settle = async (taskId: string, max = 10) => {
    let task: any;
    for (let i = 0; i < max; i++) {
      [task] = await tasks(taskId);
      if (task.status === "READY" || task.status === "ERROR") break;
    }
    return task;
  };
  return { oh, call, start, tasks, conversation, settle };
}

const CID = "4b7e2d9c-1a3f-4e5d-8c6b-0a9f8e7d6c5b";
const CHEX = CID.replace(/-/g, "");

describe("start and ids", () => {
  it("answers WORKING with hex ids and echoes the request with every field, conversation_id dashed", async () => {
    const { start } = fake();
    const { status, body } = await start({
      conversation_id: CHEX,
      trigger: "openhands_api",
      unknown_field: 1,
      secrets: { A: "x" },
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: "WORKING",
      app_conversation_id: null,
      sandbox_id: null,
      agent_server_url: null,
      detail: null,
    });
    expect(body.id).toMatch(/^[0-9a-f]{32}$/);
    expect(body.request.conversation_id).toBe(CID);
    expect(body.request.trigger).toBe("openhands_api");
    expect(body.request.secrets).toEqual({ A: "**********" });
    expect(body.request).not.toHaveProperty("unknown_field");
    expect(body.request.initial_message).toEqual({
      role: "user",
      content: [{ cache_prompt: false, type: "text", text: "fix it" }],
      run: false,
    });
    expect(body.request).toMatchObject({
      sandbox_id: null,
      title: null,
      pr_number: [],
      agent_type: "default",
      parent_conversation_id: null,
    });
  });

  it("records the trigger on the conversation", async () => {
    const { start, settle, conversation } = fake();
    const task = await settle((await start({ conversation_id: CID, trigger: "openhands_api" })).body.id);
    expect(task.status).toBe("READY");
    expect(task.app_conversation_id).toBe(CHEX);
    expect((await conversation(CID)).trigger).toBe("openhands_api");
  });

  it("422s bad bodies: bad UUID, extra content key, bad enums, missing body", async () => {
    const { call, start } = fake();
    for (const bad of [
      { conversation_id: "xyz" },
      { initial_message: { content: [{ type: "text", text: "a", extra: 1 }] } },
      { git_provider: "svn" },
      { trigger: "webhook" },
      { initial_message: { role: "robot", content: [] } },
    ]) {
      const { status, body } = await start(bad);
      expect(status, JSON.stringify(bad)).toBe(422);
      expect(Array.isArray(body.detail)).toBe(true);
    }
    expect((await call("POST", "/api/v1/app-conversations")).status).toBe(422);
    expect((await call("POST", "/api/v1/app-conversations", [])).status).toBe(422);
    // images and a content-less message are valid
    expect(
      (await start({ initial_message: { content: [{ type: "image", image_urls: ["https://x/y.png"] }] } })).status,
    ).toBe(200);
    expect((await start({ initial_message: {} })).status).toBe(200);
  });

  it("limits ?ids=: 100 start tasks (a bad id is 422), 99 conversations (a bad id is 400)", async () => {
    const { call } = fake();
    const ids = (n: number) => Array.from({ length: n }, () => `ids=${crypto.randomUUID()}`).join("&");
    expect((await call("GET", `/api/v1/app-conversations/start-tasks?${ids(100)}`)).status).toBe(200);
    const tooMany = await call("GET", `/api/v1/app-conversations/start-tasks?${ids(101)}`);
    expect(tooMany).toEqual({
      status: 400,
      body: { detail: "Cannot request more than 100 start tasks at once, got 101" },
    });
    expect((await call("GET", "/api/v1/app-conversations/start-tasks?ids=nope")).status).toBe(422);
    expect((await call("GET", `/api/v1/app-conversations?${ids(99)}`)).status).toBe(200);
    expect(await call("GET", `/api/v1/app-conversations?${ids(100)}`)).toEqual({
      status: 400,
      body: { detail: "Too many ids requested. Maximum is 99." },
    });
    expect(await call("GET", "/api/v1/app-conversations?ids=nope")).toEqual({
      status: 400,
      body: { detail: "Invalid UUID format for ids: ['nope']" },
    });
  });

  it("shows execution_status only while the sandbox is RUNNING", async () => {
    const { start, settle, conversation } = fake(
      {},
      { ...QUICK, execution: ["running", "running"], sandbox: ["STARTING", "RUNNING"] },
    );
    await settle((await start({ conversation_id: CID })).body.id);
    expect(await conversation(CID)).toMatchObject({
      sandbox_status: "STARTING",
      execution_status: null,
      conversation_url: null,
      session_api_key: null,
    });
    expect(await conversation(CID)).toMatchObject({
      sandbox_status: "RUNNING",
      execution_status: "running",
      id: CHEX,
      sandbox_id: CHEX,
    });
  });
});

describe("start-tasks/search", () => {
  it("finds by conversation_id__eq only at READY; never an in-progress or ERROR task", async () => {
    const { call, start, tasks, oh } = fake({}, { ...QUICK, startSteps: ["WORKING", "WAITING_FOR_SANDBOX"] });
    const other = "11111111-2222-4333-8444-555555555555";
    oh.script(other, {
      start: "ERROR",
      startSteps: ["WORKING"],
      startErrorDetail: "Failed to clone repository acme/widgets",
    });
    const ok = (await start({ conversation_id: CID })).body.id;
    const failed = (await start({ conversation_id: other })).body.id;
    const search = async (id: string) =>
      (await call("GET", `/api/v1/app-conversations/start-tasks/search?conversation_id__eq=${id}`)).body;
    expect((await search(CID)).items).toEqual([]);
    await tasks(ok, failed); // WAITING_FOR_SANDBOX, ERROR
    expect((await tasks(failed))[0].status).toBe("ERROR");
    expect((await search(other)).items).toEqual([]);
    expect((await search(CID)).items).toEqual([]);
    await tasks(ok);
    await tasks(ok); // READY
    const found = await search(CID);
    expect(found.items.map((t: any) => t.id)).toEqual([ok]);
    expect(found.items[0].request.conversation_id).toBe(CID);
    expect((await call("GET", `/api/v1/app-conversations/start-tasks/count?conversation_id__eq=${CHEX}`)).body).toBe(1);
    expect((await call("GET", "/api/v1/app-conversations/start-tasks/search?conversation_id__eq=zzz")).status).toBe(
      422,
    );
  });

  it("filters created_at__gte, sorts (CREATED_AT_DESC by default) and pages by offset", async () => {
    const { call, start } = fake();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await start()).body.id);
    const get = async (query: string) =>
      (await call("GET", `/api/v1/app-conversations/start-tasks/search?${query}`)).body;
    expect((await get("")).items.map((t: any) => t.id)).toEqual([...ids].reverse());
    expect((await get("sort_order=CREATED_AT")).items.map((t: any) => t.id)).toEqual(ids);
    const first = await get("sort_order=CREATED_AT&limit=2");
    expect(first.next_page_id).toBe("2");
    const second = await get(`sort_order=CREATED_AT&limit=2&page_id=${first.next_page_id}`);
    expect(second.items.map((t: any) => t.id)).toEqual(ids.slice(2, 4));
    const last = await get("sort_order=CREATED_AT&limit=2&page_id=4");
    expect(last).toMatchObject({ next_page_id: null });
    expect(last.items.map((t: any) => t.id)).toEqual(ids.slice(4));
    expect((await get("page_id=abc&limit=1")).items.map((t: any) => t.id)).toEqual([ids[4]]); // a non-number starts over
    expect((await get(`created_at__gte=${new Date(Date.now() + 60_000).toISOString()}`)).items).toEqual([]);
    expect((await get(`created_at__gte=${new Date(Date.now() - 60_000).toISOString()}`)).items).toHaveLength(5);
    for (const bad of ["limit=0", "limit=101", "sort_order=NEWEST", "created_at__gte=yesterday"]) {
      expect((await call("GET", `/api/v1/app-conversations/start-tasks/search?${bad}`)).status, bad).toBe(422);
    }
  });

  it("UPDATED_AT orders by the last status change", async () => {
    const { call, start, tasks } = fake({}, { ...QUICK, startSteps: ["WORKING", "WAITING_FOR_SANDBOX"] });
    const a = (await start()).body.id;
    const b = (await start()).body.id;
    await new Promise((r) => setTimeout(r, 5));
    await tasks(a); // a changes status, b does not
    const items = (await call("GET", "/api/v1/app-conversations/start-tasks/search?sort_order=UPDATED_AT_DESC")).body
      .items;
    expect(items.map((t: any) => t.id)).toEqual([a, b]);
  });
});

describe("a second start with the same conversation_id", () => {
  it("is answered 200 with a new task that stays WORKING forever by default, and no second agent", async () => {
    const { start, settle, tasks, oh } = fake();
    const first = await settle((await start({ conversation_id: CID })).body.id);
    expect(first.status).toBe("READY");
    const again = await start({ conversation_id: CID });
    expect(again.status).toBe(200);
    expect(again.body.id).not.toBe(first.id);
    for (let i = 0; i < 20; i++) await tasks(again.body.id);
    expect((await tasks(again.body.id))[0]).toMatchObject({
      status: "WORKING",
      sandbox_id: null,
      app_conversation_id: null,
    });
    expect(oh.conversations.size).toBe(1);
    expect(oh.conversations.get(CHEX)!.agentStarts).toBe(1);
  });

  it("ends in ERROR with the duplicate-key detail under duplicateStart: 'error'", async () => {
    const { start, settle, oh } = fake({ duplicateStart: "error" });
    await settle((await start({ conversation_id: CID })).body.id);
    const task = await settle((await start({ conversation_id: CHEX })).body.id);
    expect(task.status).toBe("ERROR");
    expect(task.detail).toContain('duplicate key value violates unique constraint "v1_remote_sandbox_pkey"');
    expect(task.detail).toContain(`Key (id)=(${CHEX}) already exists.`);
    expect(oh.conversations.size).toBe(1);
  });

  it("also collides while the first start is still in progress", async () => {
    const { start, tasks } = fake();
    await start({ conversation_id: CID });
    const again = (await start({ conversation_id: CID })).body.id;
    await tasks(again);
    expect((await tasks(again))[0].status).toBe("WORKING");
  });
});

describe("sandbox ids that differ from conversation ids", () => {
  it("default: the sandbox is named after the conversation, and pausing by that id works", async () => {
    const { start, settle, call, conversation } = fake();
    const task = await settle((await start({ conversation_id: CID })).body.id);
    expect(task.sandbox_id).toBe(CHEX);
    expect((await conversation(CID)).sandbox_id).toBe(CHEX);
    expect(await call("POST", `/api/v1/sandboxes/${CHEX}/pause`)).toEqual({ status: 200, body: { success: true } });
  });

  it("without a chosen conversation_id the sandbox id is an opaque base62 string", async () => {
    const { start, settle } = fake();
    const task = await settle((await start()).body.id);
    expect(task.sandbox_id).toMatch(/^[0-9A-Za-z]{15,22}$/);
    expect(task.sandbox_id).not.toBe(task.app_conversation_id);
  });

  it("per-script sandboxId: the conversation and its task name the other sandbox; pause by conversation id is 404", async () => {
    const { start, settle, call, conversation } = fake({}, { ...QUICK, sandboxId: "7Hq2mZ0bXkP4sR9tVw1yA3" });
    const task = await settle((await start({ conversation_id: CID })).body.id);
    expect(task.sandbox_id).toBe("7Hq2mZ0bXkP4sR9tVw1yA3");
    expect((await conversation(CID)).sandbox_id).toBe("7Hq2mZ0bXkP4sR9tVw1yA3");
    expect(await call("POST", `/api/v1/sandboxes/${CHEX}/pause`)).toEqual({
      status: 404,
      body: SANDBOX_NOT_FOUND_BODY,
    });
    expect((await call("POST", "/api/v1/sandboxes/7Hq2mZ0bXkP4sR9tVw1yA3/pause")).status).toBe(200);
    expect((await conversation(CID)).sandbox_status).toBe("PAUSED");
  });

  it("sandboxGrouping: a new conversation joins a running sandbox of the user; pausing it pauses both", async () => {
    const { oh, start, settle, call, conversation } = fake({ sandboxGrouping: true });
    const seeded = oh.seedSandbox();
    const second = "22222222-3333-4444-8555-666666666666";
    const a = await settle((await start({ conversation_id: CID })).body.id);
    const b = await settle((await start({ conversation_id: second })).body.id);
    expect(a.sandbox_id).toBe(seeded);
    expect(b.sandbox_id).toBe(seeded);
    expect((await conversation(second)).sandbox_id).toBe(seeded);
    expect((await call("POST", `/api/v1/sandboxes/${CHEX}/pause`)).status).toBe(404);
    expect((await call("POST", `/api/v1/sandboxes/${seeded}/pause`)).status).toBe(200);
    expect((await conversation(CID)).sandbox_status).toBe("PAUSED");
    expect((await conversation(second)).sandbox_status).toBe("PAUSED");
  });

  it("sandboxGrouping with no running sandbox names the first one after its conversation", async () => {
    const { start, settle } = fake({ sandboxGrouping: "ADD_TO_ANY" });
    const a = await settle((await start({ conversation_id: CID })).body.id);
    expect(a.sandbox_id).toBe(CHEX);
    const b = await settle((await start({ conversation_id: "22222222-3333-4444-8555-666666666666" })).body.id);
    expect(b.sandbox_id).toBe(CHEX);
  });

  it("a start with an unknown request sandbox_id ends in ERROR", async () => {
    const { start, settle } = fake();
    const task = await settle((await start({ sandbox_id: "nope" })).body.id);
    expect(task).toMatchObject({ status: "ERROR", detail: "Sandbox not found: nope" });
  });

  it("pause before the sandbox row exists is 404", async () => {
    const { start, call } = fake();
    await start({ conversation_id: CID });
    expect((await call("POST", `/api/v1/sandboxes/${CHEX}/pause`)).status).toBe(404);
  });
});

describe("pause/resume", () => {
  it("a runtime error answers 404 {detail: 'Not Found'} though the sandbox exists, and changes nothing", async () => {
    const { oh, start, settle, call, conversation } = fake();
    await settle((await start({ conversation_id: CID })).body.id);
    oh.failSandboxRuntime("pause");
    expect(await call("POST", `/api/v1/sandboxes/${CHEX}/pause`)).toEqual({
      status: 404,
      body: { detail: "Not Found" },
    });
    expect((await conversation(CID)).sandbox_status).toBe("RUNNING");
    expect((await call("POST", `/api/v1/sandboxes/${CHEX}/pause`)).status).toBe(200);
    oh.failSandboxRuntime("resume", 2);
    expect((await call("POST", `/api/v1/sandboxes/${CHEX}/resume`)).status).toBe(404);
    expect((await call("POST", `/api/v1/sandboxes/${CHEX}/resume`)).status).toBe(404);
    expect((await conversation(CID)).sandbox_status).toBe("PAUSED");
    expect((await call("POST", `/api/v1/sandboxes/${CHEX}/resume`)).status).toBe(200);
    expect((await conversation(CID)).sandbox_status).toBe("RUNNING");
  });

  it("a conversation paused while running reads error after resume, until send-message run:true; then it goes on", async () => {
    const { start, settle, call, conversation, oh } = fake({}, { ...QUICK, execution: ["running", "finished"] });
    await settle((await start({ conversation_id: CID })).body.id);
    expect((await conversation(CID)).execution_status).toBe("running");
    expect((await call("POST", `/api/v1/sandboxes/${CHEX}/pause`)).status).toBe(200);
    expect(await conversation(CID)).toMatchObject({ sandbox_status: "PAUSED", execution_status: null });
    const send = (body: unknown) => call("POST", `/api/v1/app-conversations/${CID}/send-message`, body);
    const paused = await send({ content: [{ type: "text", text: "continue" }] });
    expect(paused).toEqual({
      status: 409,
      body: { detail: `Sandbox is PAUSED. Use POST /api/v1/sandboxes/${CHEX}/resume to resume it first.` },
    });

    expect((await call("POST", `/api/v1/sandboxes/${CHEX}/resume`)).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect(await conversation(CID)).toMatchObject({ sandbox_status: "RUNNING", execution_status: "error" });
    const events = oh.conversations
      .get(CHEX)!
      .events.filter((e) => e.kind === "ConversationStateUpdateEvent")
      .map((e) => e.value);
    expect(events).toEqual(["running", "error"]);

    expect((await send({ content: [{ type: "text", text: "continue" }], run: false })).status).toBe(200);
    expect((await conversation(CID)).execution_status).toBe("error");
    expect(await send({ content: [{ type: "text", text: "continue" }] })).toEqual({
      status: 200,
      body: { success: true, sandbox_status: "RUNNING", message: null },
    });
    expect((await conversation(CID)).execution_status).toBe("running");
    expect((await conversation(CID)).execution_status).toBe("finished");
    expect(oh.conversations.get(CHEX)!.messages).toEqual(["continue", "continue"]);
  });

  it("a conversation paused when not running comes back with the same status", async () => {
    const { start, settle, call, conversation } = fake({}, { ...QUICK, execution: ["finished"] });
    await settle((await start({ conversation_id: CID })).body.id);
    expect((await conversation(CID)).execution_status).toBe("finished");
    await call("POST", `/api/v1/sandboxes/${CHEX}/pause`);
    await call("POST", `/api/v1/sandboxes/${CHEX}/resume`);
    expect((await conversation(CID)).execution_status).toBe("finished");
  });

  it("resumeStartingReads shows STARTING (no execution) after a resume", async () => {
    const { start, settle, call, conversation } = fake({ resumeStartingReads: 2 });
    await settle((await start({ conversation_id: CID })).body.id);
    await conversation(CID);
    await call("POST", `/api/v1/sandboxes/${CHEX}/pause`);
    await call("POST", `/api/v1/sandboxes/${CHEX}/resume`);
    expect(
      (await call("POST", `/api/v1/app-conversations/${CID}/send-message`, { content: [{ text: "go" }] })).status,
    ).toBe(409);
    expect(await conversation(CID)).toMatchObject({ sandbox_status: "STARTING", execution_status: null });
    expect(await conversation(CID)).toMatchObject({ sandbox_status: "STARTING", execution_status: null });
    expect(await conversation(CID)).toMatchObject({ sandbox_status: "RUNNING", execution_status: "error" });
  });
});

describe("send-message", () => {
  it("404s an unknown conversation and 422s bad bodies", async () => {
    const { call, start, settle } = fake();
    const unknown = await call("POST", `/api/v1/app-conversations/${CID}/send-message`, {
      content: [{ type: "text", text: "x" }],
    });
    expect(unknown).toEqual({ status: 404, body: { detail: `Conversation ${CID} not found` } });
    await settle((await start({ conversation_id: CID })).body.id);
    for (const bad of [
      { content: [] },
      {},
      { content: [{ type: "text", text: "x", extra: 1 }] },
      { role: "assistant", content: [{ text: "x" }] },
    ]) {
      expect(
        (await call("POST", `/api/v1/app-conversations/${CID}/send-message`, bad)).status,
        JSON.stringify(bad),
      ).toBe(422);
    }
    expect(
      (await call("POST", "/api/v1/app-conversations/not-a-uuid/send-message", { content: [{ text: "x" }] })).status,
    ).toBe(422);
  });
});

describe("the rate limit (enterprise/server/rate_limit.py, 10/second; 100/minute per user)", () => {
  it("refuses the 11th request of a second with the limiter's body and headers, and lets the next second in", async () => {
    let now = 1_700_000_000_250;
    const { oh, call } = fake({ rateLimit: true });
    oh.rateLimitClock = () => now;
    for (let i = 0; i < 10; i++) expect((await call("GET", "/api/v1/users/git-info")).status).toBe(200);
    now += 400;
    const response = (await oh.handle(
      new Request(`${BASE}/api/v1/users/git-info`, { headers: { authorization: `Bearer ${KEY}` } }),
    ))!;
    expect(response.status).toBe(429);
    expect(await response.json()).toEqual({ error: "Rate limit exceeded: 10 per 1 second" });
    expect(Object.fromEntries(response.headers)).toMatchObject({
      "x-ratelimit-limit": "10 per 1 second",
      "x-ratelimit-remaining": "0",
      // int() of the window's end (opened at the first hit, 1 s long), and of the seconds left
      "x-ratelimit-reset": "1700000001",
      "retry-after": "0",
    });
    now += 600;
    expect((await call("GET", "/api/v1/users/git-info")).status).toBe(200);
    expect(oh.rateLimited).toBe(1);
  });

  it("refuses past 100 in a minute, saying when; requests refused by the second window do not count", async () => {
    let now = 1_700_000_000_000;
    const { oh, call } = fake({ rateLimit: true });
    oh.rateLimitClock = () => now;
    // 12 a second for 10 seconds: 10 pass and 2 are refused each second, 100 in all.
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 12; i++) await call("GET", "/api/v1/users/git-info");
      now += 1000;
    }
    expect(oh.rateLimited).toBe(20);
    const refused = await call("GET", "/api/v1/users/git-info");
    expect(refused).toMatchObject({ status: 429, body: { error: "Rate limit exceeded: 100 per 1 minute" } });
    const headers = Object.fromEntries(
      (await oh.handle(new Request(`${BASE}/api/v1/users/git-info`, { headers: { authorization: `Bearer ${KEY}` } })))!
        .headers,
    );
    expect(headers["retry-after"]).toBe("50");
    expect(oh.rateLimited).toBe(22);
  });

  it("does not count requests that are not authenticated", async () => {
    const oh = new FakeOpenHands();
    for (let i = 0; i < 15; i++) {
      const response = (await oh.handle(new Request(`${BASE}/api/v1/users/git-info`)))!;
      expect(response.status).toBe(401);
    }
    expect(oh.rateLimited).toBe(0);
  });
});
