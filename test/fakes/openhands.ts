import { FakeBase, json } from "./recorder";

/**
 * A stand-in for OpenHands Cloud's V1 API as the service behaves (not as the
 * older public docs say): arrays from `?ids=`, `detail` on ERROR tasks, ids as
 * 32 hex characters, `execution_status` null unless the sandbox is RUNNING, 9
 * start statuses, strict content items, 99/100 id limits.
 *
 * Each conversation follows a script. Every batch read of its start task moves
 * it one status further; every batch read of the conversation after READY moves
 * its execution one step further, so a test drives time by polling.
 */
export interface ConversationScript {
  /** How the start ends. */
  start: "READY" | "ERROR";
  startErrorDetail?: string;
  /** Start statuses shown before the end, one per read. */
  startSteps?: string[];
  /** Execution statuses shown after READY, one per read; the last one stays. */
  execution?: (string | null)[];
  /** Sandbox status shown with each execution step (default RUNNING). */
  sandbox?: string[];
  finalMessage?: string;
  error?: { code: string; detail: string };
}

const DEFAULT_SCRIPT: ConversationScript = {
  start: "READY",
  startSteps: ["WORKING", "WAITING_FOR_SANDBOX", "PREPARING_REPOSITORY", "STARTING_CONVERSATION"],
  execution: ["idle", "running", "finished"],
  finalMessage: "I fixed the leap-year bug in parseDate and added a test. Opened PR #42: https://github.com/Codertocat/Hello-World/pull/42",
};

interface StartTaskState {
  id: string;
  conversationId: string;
  /** A second start for a conversation id already taken: it fails once it runs. */
  duplicate?: boolean;
  request: Record<string, unknown>;
  step: number;
  createdAt: string;
  updatedAt: string;
}

interface ConversationState {
  id: string;
  script: ConversationScript;
  reads: number;
  repository: string;
  branch: string | null;
  createdAt: string;
  events: Record<string, unknown>[];
  /** Follow-up messages received through send-message. */
  messages: string[];
  deleted?: boolean;
}

export interface FakeOpenHandsOptions {
  baseUrl?: string;
  agentServerUrl?: string;
  apiKey?: string;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export class FakeOpenHands extends FakeBase {
  readonly baseUrl: string;
  readonly agentServerUrl: string;
  readonly apiKey: string;
  readonly startTasks = new Map<string, StartTaskState>();
  readonly conversations = new Map<string, ConversationState>();
  readonly sessionKey = "sess_" + "f".repeat(24);
  /** The script the next started conversation follows. */
  nextScript: ConversationScript = DEFAULT_SCRIPT;
  private readonly scripts = new Map<string, ConversationScript>();

  constructor(options: FakeOpenHandsOptions = {}) {
    super();
    this.baseUrl = (options.baseUrl ?? "https://app.all-hands.dev").replace(/\/+$/, "");
    this.agentServerUrl = (options.agentServerUrl ?? "https://runtime-4b7e2d9c.prod-runtime.all-hands.dev").replace(/\/+$/, "");
    this.apiKey = options.apiKey ?? "oh_test_api_key_0123456789";
  }

  static defaultScript(): ConversationScript {
    return { ...DEFAULT_SCRIPT };
  }

  /** Scripts a conversation before it is started (by its hex or dashed id). */
  script(conversationId: string, script: ConversationScript): void {
    this.scripts.set(hex(conversationId), script);
  }

  async handle(request: Request): Promise<Response | undefined> {
    const isApi = request.url.startsWith(this.baseUrl + "/api/");
    const isAgent = request.url.startsWith(this.agentServerUrl + "/");
    if (!isApi && !isAgent) return undefined;
    const url = new URL(request.url);
    const recorded = await this.record(request);
    const path = url.pathname;
    const fault = this.takeFault(request.method, path);
    if (fault) return fault.respond();

    if (isAgent) return this.agentServer(request.method, path, recorded.headers["x-session-api-key"]);

    if (recorded.headers.authorization !== `Bearer ${this.apiKey}`) {
      return json({ error: "User not authenticated" }, 401);
    }
    let match: RegExpMatchArray | null;
    if (request.method === "POST" && path === "/api/v1/app-conversations") return this.start(recorded.body);
    if (request.method === "GET" && path === "/api/v1/app-conversations/start-tasks") {
      return this.readStartTasks(url.searchParams.getAll("ids"));
    }
    if (request.method === "GET" && path === "/api/v1/app-conversations/start-tasks/search") {
      const wanted = url.searchParams.get("conversation_id__eq");
      // CREATED_AT_DESC is the service's default order.
      const items = [...this.startTasks.values()]
        .filter((t) => !wanted || t.conversationId === hex(wanted))
        .reverse()
        .slice(0, Number(url.searchParams.get("limit") ?? 100))
        .map((t) => this.startTaskView(t));
      return json({ items, next_page_id: null });
    }
    if (request.method === "GET" && path === "/api/v1/app-conversations") {
      return this.readConversations(url.searchParams.getAll("ids"));
    }
    if (request.method === "GET" && (match = path.match(/^\/api\/v1\/conversation\/([^/]+)\/events\/search$/))) {
      return this.searchEvents(hex(decodeURIComponent(match[1]!)), url.searchParams);
    }
    if (request.method === "POST" && (match = path.match(/^\/api\/v1\/app-conversations\/([^/]+)\/send-message$/))) {
      const conversation = this.conversations.get(hex(decodeURIComponent(match[1]!)));
      if (!conversation) return json({ detail: "Conversation not found" }, 404);
      const content = (recorded.body as { content?: unknown })?.content;
      if (!Array.isArray(content) || content.length === 0) return json({ detail: [{ type: "too_short", loc: ["body", "content"], msg: "List should have at least 1 item" }] }, 422);
      const { sandbox } = this.peek(conversation);
      if (sandbox !== "RUNNING") return json({ detail: `Sandbox is ${sandbox}; resume it before sending messages` }, 409);
      conversation.messages.push(String((content[0] as { text?: unknown }).text ?? ""));
      return json({ success: true, sandbox_status: "RUNNING", message: null });
    }
    if (request.method === "POST" && (match = path.match(/^\/api\/v1\/sandboxes\/([^/]+)\/pause$/))) {
      const conversation = this.conversations.get(hex(decodeURIComponent(match[1]!)));
      if (!conversation) return json({ detail: "Sandbox not found" }, 404);
      conversation.script = { ...conversation.script, sandbox: ["PAUSED"] };
      return json({ success: true });
    }
    if (request.method === "POST" && (match = path.match(/^\/api\/v1\/sandboxes\/([^/]+)\/resume$/))) {
      const conversation = this.conversations.get(hex(decodeURIComponent(match[1]!)));
      if (!conversation) return json({ detail: "Sandbox not found" }, 404);
      conversation.script = { ...conversation.script, sandbox: ["RUNNING"] };
      return json({ success: true });
    }
    return json({ detail: "Not Found" }, 404);
  }

  private start(body: unknown): Response {
    const req = (body ?? {}) as Record<string, unknown>;
    const errors: unknown[] = [];
    const conversationId = req.conversation_id;
    if (conversationId !== undefined && (typeof conversationId !== "string" || !UUID.test(conversationId))) {
      errors.push({ type: "uuid_parsing", loc: ["body", "conversation_id"], msg: "Input should be a valid UUID", input: conversationId });
    }
    const message = req.initial_message as { content?: unknown } | undefined;
    if (message !== undefined) {
      const content = message?.content;
      if (!Array.isArray(content) || content.length === 0) {
        errors.push({ type: "missing", loc: ["body", "initial_message", "content"], msg: "Field required", input: message });
      } else {
        content.forEach((item: Record<string, unknown>, i) => {
          const extra = Object.keys(item).filter((k) => !["type", "text", "cache_prompt"].includes(k));
          if (item.type !== "text" || typeof item.text !== "string" || extra.length) {
            errors.push({ type: "extra_forbidden", loc: ["body", "initial_message", "content", i], msg: "Extra inputs are not permitted", input: item });
          }
        });
      }
    }
    if (req.git_provider !== undefined && !["github", "gitlab", "bitbucket", "bitbucket_data_center", "forgejo", "azure_devops", "enterprise_sso"].includes(String(req.git_provider))) {
      errors.push({ type: "enum", loc: ["body", "git_provider"], msg: "Input should be 'github', …", input: req.git_provider });
    }
    if (errors.length) return json({ detail: errors }, 422);

    const id = hex(crypto.randomUUID());
    const conversation = conversationId ? hex(conversationId as string) : hex(crypto.randomUUID());
    const now = new Date().toISOString().replace("Z", "000Z").replace(/(\.\d{6})\d*Z$/, "$1Z");
    const duplicate = [...this.startTasks.values()].some((t) => t.conversationId === conversation);
    const task: StartTaskState = {
      id,
      conversationId: conversation,
      duplicate,
      request: {
        ...req,
        initial_message: message ? { role: "user", ...message, content: (message.content as object[]).map((c) => ({ cache_prompt: false, ...c })), run: false } : null,
        sandbox_id: null,
        title: null,
        trigger: req.trigger ?? null,
        pr_number: req.pr_number ?? [],
        secrets: null,
        agent_type: "default",
      },
      step: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.startTasks.set(id, task);
    return json(this.startTaskView(task));
  }

  private scriptFor(conversationId: string): ConversationScript {
    return this.scripts.get(conversationId) ?? this.nextScript;
  }

  private startTaskView(task: StartTaskState) {
    const script = this.scriptFor(task.conversationId);
    const steps = script.startSteps ?? DEFAULT_SCRIPT.startSteps!;
    const ended = task.step > steps.length - 1 && task.step > 0;
    const end = task.duplicate ? "ERROR" : script.start;
    const status = task.step === 0 ? "WORKING" : ended || task.duplicate ? end : steps[Math.min(task.step, steps.length - 1)]!;
    const ready = status === "READY";
    const hasSandbox = status !== "WORKING";
    return {
      id: task.id,
      created_by_user_id: "5d0e6f7a-8b9c-4d1e-a2f3-b4c5d6e7f809",
      status,
      detail:
        status === "ERROR"
          ? task.duplicate
            ? `Conversation ${task.conversationId} already exists`
            : (script.startErrorDetail ?? "Failed to clone repository")
          : null,
      app_conversation_id: ready ? task.conversationId : null,
      sandbox_id: hasSandbox && !task.duplicate ? task.conversationId : null,
      agent_server_url: ready || status === "STARTING_CONVERSATION" ? this.agentServerUrl : null,
      request: task.request,
      dependency_repos_cloned: [],
      created_at: task.createdAt,
      updated_at: task.updatedAt,
    };
  }

  private readStartTasks(ids: string[]): Response {
    if (ids.length > 100) return json({ detail: "Too many ids: Maximum is 100" }, 400);
    const out = ids.map((raw) => {
      const task = this.startTasks.get(hex(raw));
      if (!task) return null;
      task.step++;
      task.updatedAt = new Date().toISOString();
      const view = this.startTaskView(task);
      if (view.status === "READY" && !this.conversations.has(task.conversationId)) this.createConversation(task);
      return view;
    });
    return json(out);
  }

  private createConversation(task: StartTaskState): void {
    const script = this.scriptFor(task.conversationId);
    this.conversations.set(task.conversationId, {
      id: task.conversationId,
      script,
      reads: 0,
      repository: String(task.request.selected_repository ?? ""),
      branch: (task.request.selected_branch as string | undefined) ?? null,
      createdAt: task.createdAt,
      events: [],
      messages: [],
    });
  }

  private readConversations(ids: string[]): Response {
    if (ids.length >= 100) return json({ detail: "Too many ids. Maximum is 99" }, 400);
    if (ids.some((id) => !UUID.test(id))) return json({ detail: "Invalid UUID" }, 400);
    return json(
      ids.map((raw) => {
        const conversation = this.conversations.get(hex(raw));
        if (!conversation || conversation.deleted) return null;
        conversation.reads++;
        return this.conversationView(conversation);
      }),
    );
  }

  /** The current sandbox status without counting a read. */
  private peek(conversation: ConversationState): { sandbox: string } {
    const sandboxes = conversation.script.sandbox ?? [];
    const execution = conversation.script.execution ?? DEFAULT_SCRIPT.execution!;
    const i = Math.max(0, Math.min(conversation.reads - 1, execution.length - 1));
    return { sandbox: sandboxes[Math.min(i, sandboxes.length - 1)] ?? "RUNNING" };
  }

  private current(conversation: ConversationState): { sandbox: string; execution: string | null } {
    const execution = conversation.script.execution ?? DEFAULT_SCRIPT.execution!;
    const sandboxes = conversation.script.sandbox ?? [];
    const i = Math.max(0, Math.min(conversation.reads - 1, execution.length - 1));
    const sandbox = sandboxes[Math.min(i, sandboxes.length - 1)] ?? "RUNNING";
    const status = execution[i] ?? null;
    this.recordStatus(conversation, status);
    return { sandbox, execution: sandbox === "RUNNING" ? status : null };
  }

  /** Persists events the way the agent-server does as the run goes on. */
  private recordStatus(conversation: ConversationState, status: string | null): void {
    const last = [...conversation.events].reverse().find((e) => e.kind === "ConversationStateUpdateEvent");
    if (!status || last?.value === status) return;
    const add = (event: Record<string, unknown>) =>
      conversation.events.push({ id: crypto.randomUUID(), timestamp: new Date(Date.now() + conversation.events.length).toISOString().replace("Z", ""), ...event });
    if (status === "finished" && conversation.script.finalMessage !== undefined) {
      add({ kind: "MessageEvent", source: "agent", llm_message: { role: "assistant", content: [{ type: "text", text: "Working on it." }] }, llm_response_id: "chatcmpl-1", activated_skills: [], extended_content: [], sender: null });
      add({
        kind: "ActionEvent",
        source: "agent",
        tool_name: "finish",
        tool_call_id: "toolu_01",
        thought: [{ type: "text", text: "All tests pass." }],
        action: { kind: "FinishAction", message: conversation.script.finalMessage },
        tool_call: { id: "toolu_01", name: "finish", arguments: "{}" },
        llm_response_id: "chatcmpl-2",
        security_risk: "UNKNOWN",
        summary: null,
      });
    }
    if ((status === "error" || status === "stuck") && conversation.script.error) {
      add({ kind: "ConversationErrorEvent", source: "environment", code: conversation.script.error.code, detail: conversation.script.error.detail, classification: null });
    }
    if (status === "error" && conversation.script.finalMessage) {
      add({ kind: "MessageEvent", source: "agent", llm_message: { role: "assistant", content: [{ type: "text", text: conversation.script.finalMessage }] }, llm_response_id: "chatcmpl-3", activated_skills: [], extended_content: [], sender: null });
    }
    add({ kind: "ConversationStateUpdateEvent", source: "environment", key: "execution_status", value: status });
  }

  private conversationView(conversation: ConversationState) {
    const { sandbox, execution } = this.current(conversation);
    const running = sandbox === "RUNNING";
    return {
      id: conversation.id,
      created_by_user_id: "5d0e6f7a-8b9c-4d1e-a2f3-b4c5d6e7f809",
      sandbox_id: conversation.id,
      selected_repository: conversation.repository,
      selected_branch: conversation.branch,
      git_provider: "github",
      title: `Conversation ${conversation.id.slice(0, 5)}`,
      trigger: "resolver",
      pr_number: [],
      llm_model: "claude-sonnet-4-5",
      agent_kind: "openhands",
      metrics: null,
      parent_conversation_id: null,
      sub_conversation_ids: [],
      public: null,
      tags: {},
      acp_server: null,
      created_at: conversation.createdAt,
      updated_at: new Date().toISOString(),
      sandbox_status: sandbox,
      execution_status: execution,
      conversation_url: running ? `${this.agentServerUrl}/api/conversations/${conversation.id}` : null,
      session_api_key: running ? this.sessionKey : null,
    };
  }

  private searchEvents(conversationId: string, params: URLSearchParams): Response {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) return json({ items: [], next_page_id: null });
    let events = [...conversation.events];
    const kind = params.get("kind__eq");
    if (kind) events = events.filter((e) => e.kind === kind);
    if (params.get("sort_order") === "TIMESTAMP_DESC") events.reverse();
    const limit = Math.min(100, Math.max(1, Number(params.get("limit") ?? 100)));
    const offset = Number(params.get("page_id") ?? 0);
    const items = events.slice(offset, offset + limit);
    return json({ items, next_page_id: offset + limit < events.length ? String(offset + limit) : null });
  }

  private agentServer(method: string, path: string, sessionKey: string | undefined): Response {
    const match = path.match(/^\/api\/conversations\/([0-9a-f]{32})\/agent_final_response$/);
    if (method !== "GET" || !match) return json({ detail: "Not Found" }, 404);
    if (sessionKey !== this.sessionKey) return json({ detail: "Unauthorized" }, 401);
    const conversation = this.conversations.get(match[1]!);
    if (!conversation) return json({ detail: "Not Found" }, 404);
    const finished = conversation.events.some((e) => e.kind === "ConversationStateUpdateEvent" && e.value === "finished");
    return json({ response: finished ? (conversation.script.finalMessage ?? "") : "" });
  }
}

export function hex(id: string): string {
  return id.replace(/-/g, "").toLowerCase();
}
