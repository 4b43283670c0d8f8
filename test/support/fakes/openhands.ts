import { type HttpHandler, http } from "msw";
import { FakeBase, json, parsedBody } from "./recorder";

/**
 * A stand-in for OpenHands Cloud's V1 API as the service behaves according to
 * its source (not as the older public docs say). Each behaviour below names the
 * file (and function) of OpenHands/OpenHands or OpenHands/software-agent-sdk
 * that it follows; "app_server/" is short for "openhands/app_server/" and
 * "agent_server/" for "openhands-agent-server/openhands/agent_server/".
 *
 * Each conversation follows a script. Every batch read of its start task moves
 * it one status further; every batch read of the conversation after READY moves
 * its execution one step further, so a test drives time by polling.
 *
 * Options (constructor, or the public fields of the same name at any time):
 * - `sandboxGrouping`: the key owner's sandbox grouping setting. `false` /
 *   "NO_GROUPING" (the default) gives each conversation its own sandbox, named
 *   after the conversation's hex id. `true` (= "GROUP_BY_NEWEST") or another
 *   strategy puts a new conversation into a RUNNING sandbox of the user when
 *   there is one, so its `sandbox_id` differs from its id.
 * - `duplicateStart`: what becomes of a start whose `conversation_id` names a
 *   sandbox that already exists. "stuck" (the default) stays WORKING forever;
 *   "error" ends in ERROR with the database error as `detail`.
 * - `maxConversationsPerSandbox` (20) and `resumeStartingReads` (0: how many
 *   conversation reads after a resume still show the sandbox STARTING).
 * - `rateLimit` (true): the service's 10 a second and 100 a minute per user,
 *   in real time; `rateLimited` counts the 429s it answered.
 * Per script: `sandboxId` puts that conversation into a sandbox with that
 * opaque id (created if needed), as a grouping setting would.
 * Methods: `failSandboxRuntime("pause" | "resume", times)` makes the next calls
 * on an existing sandbox fail the way a runtime error does (404, nothing
 * changes); `seedSandbox(id?)` adds a RUNNING sandbox a grouped start can join.
 */
export interface ConversationScript {
  /** How the start ends. */
  start: "READY" | "ERROR";
  startErrorDetail?: string;
  /** Start statuses shown before the end, one per read. */
  startSteps?: string[];
  /** Execution statuses shown after READY, one per read; the last one stays. */
  execution?: (string | null)[];
  /** Sandbox status shown with each execution step (default RUNNING) until pause/resume is called. */
  sandbox?: string[];
  finalMessage?: string;
  error?: { code: string; detail: string };
  /** Put the conversation into the sandbox with this opaque id instead of one named after the conversation. */
  sandboxId?: string;
}

export type SandboxGroupingStrategy =
  | "NO_GROUPING"
  | "GROUP_BY_NEWEST"
  | "LEAST_RECENTLY_USED"
  | "FEWEST_CONVERSATIONS"
  | "ADD_TO_ANY";

const DEFAULT_SCRIPT: ConversationScript = {
  start: "READY",
  startSteps: ["WORKING", "WAITING_FOR_SANDBOX", "PREPARING_REPOSITORY", "STARTING_CONVERSATION"],
  execution: ["idle", "running", "finished"],
  finalMessage:
    "I fixed the leap-year bug in parseDate and added a test. Opened PR #42: https://github.com/Codertocat/Hello-World/pull/42",
};

interface StartTaskState {
  id: string;
  /** Creation order, to break ties between equal timestamps. */
  seq: number;
  conversationId: string;
  /** A second start for a conversation id whose sandbox already exists: it never gets past its first save. */
  duplicate?: boolean;
  /** The sandbox the start chose (shown from WAITING_FOR_SANDBOX on), null when it failed before choosing. */
  sandboxId: string | null;
  /** An ERROR decided when the start was made (sandbox not found, duplicate key). */
  errorDetail?: string;
  request: Record<string, unknown>;
  /**
   * The request's `secrets` as sent: the echo masks them ("**********"), the agent gets them
   * (live_status_app_conversation_service.py merges them last, over the key owner's GITHUB_TOKEN).
   */
  secrets: Record<string, string>;
  step: number;
  lastStatus: string;
  readyHandled?: boolean;
  createdAt: string;
  updatedAt: string;
  createdMs: number;
  updatedMs: number;
}

interface ConversationState {
  id: string;
  sandboxId: string;
  script: ConversationScript;
  reads: number;
  repository: string;
  branch: string | null;
  gitProvider: string | null;
  trigger: string | null;
  prNumber: unknown[];
  llmModel: string;
  /** What the run has cost so far; a test sets it as the agent "works" (`setMetrics`). */
  metrics: { cost: number; promptTokens: number; completionTokens: number };
  /**
   * Not when it was made: event_callback/webhook_router.py on_conversation_update (the agent-server
   * reporting the conversation as it starts, pauses or resumes) saves a new AppConversationInfo
   * without created_at, whose default is utc_now, and sql_app_conversation_info_service.py merges
   * it over the row. So it moves to each report (`agentServerReported`).
   */
  createdAt: string;
  events: Record<string, unknown>[];
  /** Follow-up messages received through send-message. */
  messages: string[];
  /**
   * How each next run goes, one per message that sets an ended agent going again (`scriptNextRun`);
   * without one, the run ends as the last one did.
   */
  nextRuns: Partial<ConversationScript>[];
  deleted?: boolean;
  /**
   * The agent-server reloaded this conversation from disk while it was `running`
   * (its sandbox was paused and resumed): it reads `error` until a send-message with run true.
   */
  reloadedAsError?: boolean;
  /** Statuses shown before the script goes on, one per read (a run restarted by send-message shows `running`). */
  injected: string[];
  /** How many agents were started under this id (>1 only for a grouped duplicate landing in another sandbox). */
  agentStarts: number;
  /** The secrets the agent holds: the start request's, then each agent-server `/secrets` update. */
  secrets: Record<string, string>;
}

export interface SandboxState {
  id: string;
  seq: number;
  createdAt: string;
  /** The row is committed once its start got past WORKING; before that pause/resume/reads do not find it. */
  visible: boolean;
  /** Set by pause/resume; until then each conversation's script decides its sandbox status. */
  status?: "PAUSED" | "RUNNING";
  /** Reads left that show STARTING after a resume. */
  startingReads: number;
}

export interface FakeOpenHandsOptions {
  baseUrl?: string;
  agentServerUrl?: string;
  apiKey?: string;
  sandboxGrouping?: boolean | SandboxGroupingStrategy;
  duplicateStart?: "stuck" | "error";
  maxConversationsPerSandbox?: number;
  resumeStartingReads?: number;
  /** The service's per-user limit of 10 a second and 100 a minute (on unless false). */
  rateLimit?: boolean;
}

/**
 * enterprise/server/auth/saas_user_auth.py: `create_redis_rate_limiter('10/second; 100/minute')`,
 * hit once per request authenticated as a user (keyed on the user id, so every key of one user
 * shares it). enterprise/server/rate_limit.py: limits' FixedWindowRateLimiter on Redis (a window
 * opens at its first hit and lasts its length), the windows tried in order, the first full one
 * raising, so a request refused by the second does not count in the minute.
 */
const RATE_WINDOWS = [
  { amount: 10, ms: 1000, description: "10 per 1 second" },
  { amount: 100, ms: 60_000, description: "100 per 1 minute" },
];

/** FastAPI's body for `HTTPException(404)` without a detail (app_server/sandbox/sandbox_router.py). */
export const SANDBOX_NOT_FOUND_BODY = { detail: "Not Found" };

const USER_ID = "5d0e6f7a-8b9c-4d1e-a2f3-b4c5d6e7f809";
const SANDBOX_SPEC_ID = "ghcr.io/openhands/agent-server:1.4.0-python";
const GIT_PROVIDERS = [
  "github",
  "gitlab",
  "bitbucket",
  "bitbucket_data_center",
  "forgejo",
  "azure_devops",
  "enterprise_sso",
];
// app_server/app_conversation/app_conversation_models.py: ConversationTrigger (REMOTE_API_KEY = 'openhands_api').
const TRIGGERS = [
  "resolver",
  "gui",
  "suggested_task",
  "openhands_api",
  "slack",
  "microagent_management",
  "jira",
  "jira_dc",
  "linear",
  "bitbucket",
  "automation",
];
const START_TASK_SORT_ORDERS = ["CREATED_AT", "CREATED_AT_DESC", "UPDATED_AT", "UPDATED_AT_DESC"];
const START_REQUEST_FIELDS = [
  "sandbox_id",
  "conversation_id",
  "initial_message",
  "system_message_suffix",
  "processors",
  "llm_model",
  "selected_repository",
  "selected_branch",
  "git_provider",
  "suggested_task",
  "title",
  "trigger",
  "pr_number",
  "parent_conversation_id",
  "agent_type",
  "public",
  "plugins",
  "secrets",
];

export class FakeOpenHands extends FakeBase {
  readonly baseUrl: string;
  private readonly routes: HttpHandler[];
  readonly agentServerUrl: string;
  readonly apiKey: string;
  readonly startTasks = new Map<string, StartTaskState>();
  readonly conversations = new Map<string, ConversationState>();
  readonly sandboxes = new Map<string, SandboxState>();
  readonly sessionKey = `sess_${"f".repeat(24)}`;
  /** The script the next started conversation follows. */
  nextScript: ConversationScript = DEFAULT_SCRIPT;
  sandboxGrouping: boolean | SandboxGroupingStrategy;
  duplicateStart: "stuck" | "error";
  maxConversationsPerSandbox: number;
  resumeStartingReads: number;
  rateLimit: boolean;
  /** How many requests the rate limiter refused. */
  rateLimited = 0;
  /**
   * The rate limiter's clock. A test that runs cron ticks hours apart in a few real seconds
   * moves it with them (harness.ts), or its ticks would count as one burst.
   */
  rateLimitClock: () => number = Date.now;
  private readonly windows = RATE_WINDOWS.map((w) => ({ ...w, opened: 0, hits: 0 }));
  private readonly scripts = new Map<string, ConversationScript>();
  private readonly runtimeErrors = { pause: 0, resume: 0 };
  private seq = 0;

  /**
   * The GitHub account of the key's owner, which the agent pushes and comments as;
   * null: no GitHub connected. app_server/user/user_router.py: get_current_user_git_info
   * answers UserGitInfo (integrations/service_types.py) from GitHub's GET /user, or 403
   * "Git provider not connected".
   */
  gitLogin: string | null = "openhands-agent";

  private gitInfo(): Response {
    if (this.gitLogin === null) return json({ detail: "Git provider not connected" }, 403);
    return json({
      id: "91823117",
      login: this.gitLogin,
      avatar_url: "https://avatars.githubusercontent.com/u/91823117?v=4",
      company: null,
      name: null,
      email: null,
    });
  }

  constructor(options: FakeOpenHandsOptions = {}) {
    super();
    this.baseUrl = (options.baseUrl ?? "https://app.all-hands.dev").replace(/\/+$/, "");
    this.agentServerUrl = (options.agentServerUrl ?? "https://runtime-4b7e2d9c.prod-runtime.all-hands.dev").replace(
      /\/+$/,
      "",
    );
    this.apiKey = options.apiKey ?? "oh_test_api_key_0123456789";
    this.sandboxGrouping = options.sandboxGrouping ?? false;
    this.duplicateStart = options.duplicateStart ?? "stuck";
    this.maxConversationsPerSandbox = options.maxConversationsPerSandbox ?? 20;
    this.resumeStartingReads = options.resumeStartingReads ?? 0;
    this.rateLimit = options.rateLimit ?? true;
    this.routes = this.routeList();
  }

  static defaultScript(): ConversationScript {
    return { ...DEFAULT_SCRIPT };
  }

  /** Scripts a conversation before it is started (by its hex or dashed id). */
  script(conversationId: string, script: ConversationScript): void {
    this.scripts.set(hex(conversationId), script);
  }

  /**
   * The next `times` pause (or resume) calls on an existing sandbox fail as a
   * runtime error does: 404 `{"detail": "Not Found"}` and nothing changes.
   * app_server/sandbox/remote_sandbox_service.py: pause_sandbox / resume_sandbox
   * return False on any httpx.HTTPError, and sandbox_router.py turns False into 404.
   */
  /**
   * How the conversation's next run goes once a message sets its ended agent going again: its execution
   * statuses from the start, its final message, its cost so far.
   */
  scriptNextRun(conversationId: string, changes: Partial<ConversationScript>): void {
    this.conversations.get(hex(conversationId))!.nextRuns.push(changes);
  }

  failSandboxRuntime(action: "pause" | "resume", times = 1): void {
    this.runtimeErrors[action] += times;
  }

  /**
   * The next `times` conversation reads meet a runtime-API error: every sandbox of
   * that call reads MISSING, with no execution status and no agent-server URL, while
   * the agents go on. remote_sandbox_service.py: _to_sandbox_info logs the error of
   * _get_runtime and derives the status from no runtime (_get_sandbox_status_from_runtime:
   * not runtime → MISSING); the batched read falls back to empty runtimes the same way.
   */
  failRuntimeReads(times = 1): void {
    this.failedRuntimeReads += times;
  }

  private failedRuntimeReads = 0;

  /** What the run has cost so far, as the stats events would have stored it. */
  setMetrics(conversationId: string, metrics: ConversationState["metrics"]): void {
    const conversation = this.conversations.get(hex(conversationId));
    if (!conversation) throw new Error(`no conversation ${conversationId}`);
    conversation.metrics = metrics;
  }

  /**
   * The agent opened a pull request through the service's own `create_pr` MCP tool:
   * mcp_router.py `save_pr_metadata` appends the first `pull/(\d+)` of the tool's
   * result (the PR's html_url) to `pr_number`, whatever the repository.
   */
  recordPullRequest(conversationId: string, htmlUrl: string): void {
    const conversation = this.conversations.get(hex(conversationId));
    const number = htmlUrl.match(/pull\/(\d+)/)?.[1];
    if (!conversation || !number) throw new Error(`no conversation ${conversationId} or no PR number in ${htmlUrl}`);
    conversation.prNumber = [...conversation.prNumber, Number(number)];
  }

  /**
   * The agent took an action, stored as the agent-server pushes it (the SDK's ActionEvent;
   * `summary` is the model's few words, or null on calls that could not run).
   */
  recordAction(
    conversationId: string,
    action: { tool_name: string; action: Record<string, unknown> | null; summary: string | null },
  ): void {
    const conversation = this.conversations.get(hex(conversationId));
    if (!conversation) throw new Error(`no conversation ${conversationId}`);
    const callId = `toolu_${conversation.events.length}`;
    conversation.events.push({
      id: crypto.randomUUID(),
      timestamp: new Date(Date.now() + conversation.events.length).toISOString().replace("Z", ""),
      kind: "ActionEvent",
      source: "agent",
      thought: [],
      reasoning_content: null,
      thinking_blocks: [],
      responses_reasoning_item: null,
      tool_name: action.tool_name,
      tool_call_id: callId,
      tool_call: { id: callId, responses_item_id: null, name: action.tool_name, arguments: "{}", origin: "completion" },
      action: action.action,
      llm_response_id: `chatcmpl-${conversation.events.length}`,
      security_risk: "UNKNOWN",
      critic_result: null,
      summary: action.summary,
    });
  }

  /**
   * A long run's store: `steps` tool calls, each persisted as the agent-server does (the SDK's
   * ActionEvent, its ObservationEvent, and a ConversationStateUpdateEvent of key `stats` after the
   * LLM call), so a search that does not filter by kind wades through them all.
   */
  recordRunSteps(conversationId: string, steps: number): void {
    const conversation = this.conversations.get(hex(conversationId));
    if (!conversation) throw new Error(`no conversation ${conversationId}`);
    const at = () => new Date(Date.now() + conversation.events.length).toISOString().replace("Z", "");
    for (let step = 0; step < steps; step++) {
      const callId = `toolu_step_${conversation.events.length}`;
      const command = `pytest tests/test_case_${step}.py`;
      conversation.events.push(
        {
          id: crypto.randomUUID(),
          timestamp: at(),
          kind: "ActionEvent",
          source: "agent",
          thought: [],
          tool_name: "terminal",
          tool_call_id: callId,
          tool_call: { id: callId, name: "terminal", arguments: JSON.stringify({ command }) },
          action: { kind: "TerminalAction", command, is_input: false, timeout: null, reset: false },
          llm_response_id: `chatcmpl-step-${step}`,
          security_risk: "LOW",
          summary: `Run test case ${step}`,
        },
        {
          id: crypto.randomUUID(),
          timestamp: at(),
          kind: "ObservationEvent",
          source: "environment",
          tool_name: "terminal",
          tool_call_id: callId,
          action_id: callId,
          observation: { kind: "TerminalObservation", content: [{ type: "text", text: "1 passed in 0.12s" }] },
        },
        {
          id: crypto.randomUUID(),
          timestamp: at(),
          kind: "ConversationStateUpdateEvent",
          source: "environment",
          key: "stats",
          value: { usage_to_metrics: { agent: { accumulated_cost: step * 0.001 } } },
        },
      );
    }
  }

  /** Adds a RUNNING sandbox of the user (one a grouped start may join) and returns its id. */
  seedSandbox(id: string = base62Id()): string {
    const box = this.newSandbox(id);
    box.visible = true;
    return id;
  }

  async handle(request: Request): Promise<Response | undefined> {
    const isApi = request.url.startsWith(`${this.baseUrl}/api/`);
    const isAgent = request.url.startsWith(`${this.agentServerUrl}/`);
    if (!isApi && !isAgent) return undefined;
    const url = new URL(request.url);
    const recorded = await this.record(request.clone());
    const path = url.pathname;
    const fault = this.takeFault(request.method, path);
    if (fault) return fault.respond();

    if (isAgent) return this.agentServer(request.method, path, recorded.headers["x-session-api-key"], recorded.body);

    if (recorded.headers.authorization !== `Bearer ${this.apiKey}`) {
      return json({ error: "User not authenticated" }, 401);
    }
    const limited = this.hitRateLimit();
    if (limited) return limited;
    return (await this.route(this.routes, request, path)) ?? json({ detail: "Not Found" }, 404);
  }

  /** The app server's routes the Worker calls, one msw handler each, behind the key and the rate limit. */
  private routeList(): HttpHandler[] {
    const api = (route: string) => `${this.baseUrl}${route}`;
    const query = (request: Request | { url: string }) => new URL(request.url).searchParams;
    return [
      http.post(api("/api/v1/app-conversations"), async ({ request }) => this.start(await parsedBody(request))),
      http.get(api("/api/v1/app-conversations/start-tasks"), ({ request }) => this.readStartTasks(query(request))),
      http.get(api("/api/v1/app-conversations/start-tasks/search"), ({ request }) =>
        this.searchStartTasks(query(request), false),
      ),
      http.get(api("/api/v1/app-conversations/start-tasks/count"), ({ request }) =>
        this.searchStartTasks(query(request), true),
      ),
      http.get(api("/api/v1/app-conversations"), ({ request }) => this.readConversations(query(request))),
      http.get(api("/api/v1/conversation/:id/events/search"), ({ request, params }) =>
        this.searchEvents(hex(String(params.id)), query(request)),
      ),
      http.post(api("/api/v1/app-conversations/:id/send-message"), async ({ request, params }) =>
        this.sendMessage(String(params.id), await parsedBody(request)),
      ),
      http.post(api("/api/v1/sandboxes/:id/pause"), ({ params }) => this.pauseOrResume(String(params.id), "pause")),
      http.post(api("/api/v1/sandboxes/:id/resume"), ({ params }) => this.pauseOrResume(String(params.id), "resume")),
      http.get(api("/api/v1/sandboxes"), ({ request }) => this.readSandboxes(query(request).getAll("id"))),
      http.get(api("/api/v1/users/git-info"), () => this.gitInfo()),
    ];
  }

  /**
   * rate_limit.py: RateLimitException → 429 `{"error": "Rate limit exceeded: <limit>"}` with
   * `X-RateLimit-Limit` (str of the limit), `X-RateLimit-Remaining`, `X-RateLimit-Reset`
   * (int of the window's end, epoch seconds) and, the window being full, `Retry-After`
   * (int of the seconds left: 0 for most of a per-second window).
   */
  private hitRateLimit(): Response | undefined {
    if (!this.rateLimit) return undefined;
    const now = this.rateLimitClock();
    for (const window of this.windows) {
      if (now >= window.opened + window.ms) {
        window.opened = now;
        window.hits = 0;
      }
      window.hits++;
      if (window.hits > window.amount) {
        this.rateLimited++;
        const reset = (window.opened + window.ms) / 1000;
        return json({ error: `Rate limit exceeded: ${window.description}` }, 429, {
          "X-RateLimit-Limit": window.description,
          "X-RateLimit-Remaining": "0",
          "X-RateLimit-Reset": String(Math.floor(reset)),
          "Retry-After": String(Math.floor(reset - now / 1000)),
        });
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------- start

  /**
   * POST /api/v1/app-conversations. app_server/app_conversation/app_conversation_router.py:
   * start_app_conversation answers the first task the service yields (WORKING) and runs
   * the rest in the background; the body is validated first (FastAPI: 422).
   */
  private start(body: unknown): Response {
    if (body === undefined)
      return json({ detail: [{ type: "missing", loc: ["body"], msg: "Field required", input: null }] }, 422);
    if (!isObject(body)) {
      return json(
        {
          detail: [
            {
              type: "model_attributes_type",
              loc: ["body"],
              msg: "Input should be a valid dictionary or object to extract fields from",
              input: body,
            },
          ],
        },
        422,
      );
    }
    const req = body;
    const errors = validateStartRequest(req);
    if (errors.length) return json({ detail: errors }, 422);
    // live_status_app_conversation_service.py: _start_app_conversation raises ValueError
    // before the first task for these, which the router does not catch: a plain 500.
    if (req.suggested_task != null && req.initial_message != null)
      return new Response("Internal Server Error", { status: 500 });
    if (req.parent_conversation_id != null && !this.conversations.has(parseUuid(String(req.parent_conversation_id))!)) {
      return new Response("Internal Server Error", { status: 500 });
    }

    const chosen = req.conversation_id != null ? parseUuid(String(req.conversation_id)) : null;
    // live_status_app_conversation_service.py: conversation_id = request.conversation_id or uuid4()
    const conversationId = chosen ?? hex(crypto.randomUUID());
    const script = this.scriptFor(conversationId);
    const placement = this.placeSandbox(conversationId, chosen !== null, req, script);
    const now = Date.now();
    const task: StartTaskState = {
      id: hex(crypto.randomUUID()),
      seq: this.seq++,
      conversationId,
      duplicate: placement.duplicate,
      sandboxId: placement.sandboxId,
      errorDetail: placement.errorDetail,
      request: echoStartRequest(req),
      secrets: isObject(req.secrets) ? ({ ...req.secrets } as Record<string, string>) : {},
      step: 0,
      lastStatus: "WORKING",
      createdAt: isoMicros(now),
      updatedAt: isoMicros(now),
      createdMs: now,
      updatedMs: now,
    };
    this.startTasks.set(task.id, task);
    return json(this.startTaskView(task));
  }

  /**
   * Which sandbox a start uses, as live_status_app_conversation_service.py:
   * _wait_for_sandbox_start does: the request's sandbox_id (resumed if PAUSED, an
   * error if unknown); else, under a grouping setting, a RUNNING sandbox of the user
   * (_find_running_sandbox_for_user / _select_sandbox_by_strategy, at most
   * max_num_conversations_per_sandbox = 20 conversations each); else a new one,
   * start_sandbox(sandbox_id=conversation_id.hex), or a random base62 id when the
   * client chose no conversation_id (remote_sandbox_service.py: start_sandbox).
   *
   * A new sandbox whose id already exists is the duplicate case: start_sandbox adds
   * a StoredRemoteSandbox row with the same primary key, and the INSERT fails when
   * the session next flushes. That flush is the save of the WAITING_FOR_SANDBOX task
   * (sql_app_conversation_start_task_service.py: save_app_conversation_start_task),
   * which runs in start_app_conversation outside _start_app_conversation's
   * try/except, so the error escapes into the router's _consume_remaining and the
   * task keeps the last state that was committed: WORKING, forever.
   */
  private placeSandbox(
    conversationId: string,
    clientChoseId: boolean,
    req: Record<string, unknown>,
    script: ConversationScript,
  ): { sandboxId: string | null; duplicate?: boolean; errorDetail?: string } {
    if (typeof req.sandbox_id === "string" && req.sandbox_id) {
      const box = this.sandboxes.get(req.sandbox_id);
      if (!box?.visible) return { sandboxId: null, errorDetail: `Sandbox not found: ${req.sandbox_id}` };
      if (box.status === "PAUSED") this.resumeSandbox(box);
      return { sandboxId: box.id };
    }
    if (script.sandboxId) {
      const box = this.sandboxes.get(script.sandboxId) ?? this.newSandbox(script.sandboxId);
      box.visible = true;
      return { sandboxId: box.id };
    }
    const strategy = this.groupingStrategy();
    if (strategy !== "NO_GROUPING") {
      const box = this.pickRunningSandbox(strategy);
      if (box) return { sandboxId: box.id };
    }
    const id = clientChoseId ? conversationId : base62Id();
    if (this.sandboxes.has(id)) {
      return {
        sandboxId: null,
        duplicate: true,
        errorDetail: this.duplicateStart === "error" ? duplicateKeyDetail(id) : undefined,
      };
    }
    this.newSandbox(id);
    return { sandboxId: id };
  }

  private groupingStrategy(): SandboxGroupingStrategy {
    if (this.sandboxGrouping === true) return "GROUP_BY_NEWEST";
    if (this.sandboxGrouping === false) return "NO_GROUPING";
    return this.sandboxGrouping;
  }

  /** live_status_app_conversation_service.py: _select_sandbox_by_strategy. */
  private pickRunningSandbox(strategy: SandboxGroupingStrategy): SandboxState | undefined {
    const count = (box: SandboxState) =>
      [...this.conversations.values()].filter((c) => c.sandboxId === box.id && !c.deleted).length;
    // remote_sandbox_service.py: search_sandboxes orders by created_at desc.
    const running = [...this.sandboxes.values()]
      .filter((b) => b.visible && this.sandboxStatus(b) === "RUNNING")
      .sort((a, b) => b.seq - a.seq)
      .filter((b) => count(b) < this.maxConversationsPerSandbox);
    if (!running.length) return undefined;
    if (strategy === "LEAST_RECENTLY_USED") return running[running.length - 1];
    if (strategy === "FEWEST_CONVERSATIONS") return running.reduce((best, b) => (count(b) < count(best) ? b : best));
    return running[0]; // GROUP_BY_NEWEST, ADD_TO_ANY (the first found, newest first)
  }

  private newSandbox(id: string): SandboxState {
    const box: SandboxState = {
      id,
      seq: this.seq++,
      createdAt: isoMicros(Date.now()),
      visible: false,
      startingReads: 0,
    };
    this.sandboxes.set(id, box);
    return box;
  }

  private scriptFor(conversationId: string): ConversationScript {
    return this.scripts.get(conversationId) ?? this.nextScript;
  }

  private startTaskView(task: StartTaskState) {
    const script = this.scriptFor(task.conversationId);
    const steps = script.startSteps ?? DEFAULT_SCRIPT.startSteps!;
    let status: string;
    if (task.duplicate && !task.errorDetail) status = "WORKING";
    else if (task.errorDetail) status = task.step === 0 ? "WORKING" : "ERROR";
    else {
      const ended = task.step > steps.length - 1 && task.step > 0;
      status = task.step === 0 ? "WORKING" : ended ? script.start : steps[Math.min(task.step, steps.length - 1)]!;
    }
    const ready = status === "READY";
    // app_conversation_models.py: AppConversationStartTask. Ids are OpenHandsUUID (hex);
    // sandbox_id is set at WAITING_FOR_SANDBOX, agent_server_url at STARTING_CONVERSATION,
    // app_conversation_id at READY (live_status_app_conversation_service.py: _start_app_conversation).
    return {
      id: task.id,
      created_by_user_id: USER_ID,
      status,
      detail: status === "ERROR" ? (task.errorDetail ?? script.startErrorDetail ?? "Failed to clone repository") : null,
      app_conversation_id: ready ? task.conversationId : null,
      sandbox_id: status !== "WORKING" ? task.sandboxId : null,
      agent_server_url: ready || status === "STARTING_CONVERSATION" ? this.agentServerUrl : null,
      request: task.request,
      dependency_repos_cloned: [],
      created_at: task.createdAt,
      updated_at: task.updatedAt,
    };
  }

  /**
   * GET /api/v1/app-conversations/start-tasks?ids=. app_conversation_router.py:
   * batch_get_app_conversation_start_tasks takes list[UUID] (a bad id is a 422) and
   * answers 400 above 100 ids; sql_app_conversation_start_task_service.py gives null
   * for an unknown id, in the order asked.
   */
  private readStartTasks(q: URLSearchParams): Response {
    const ids = q.getAll("ids");
    if (!ids.length)
      return json({ detail: [{ type: "missing", loc: ["query", "ids"], msg: "Field required", input: null }] }, 422);
    const bad = ids.flatMap((raw, i) => (parseUuid(raw, true) ? [] : [uuidError(["query", "ids", i], raw)]));
    if (bad.length) return json({ detail: bad }, 422);
    if (ids.length > 100)
      return json({ detail: `Cannot request more than 100 start tasks at once, got ${ids.length}` }, 400);
    const out = ids.map((raw) => {
      const task = this.startTasks.get(parseUuid(raw, true)!);
      return task ? this.step(task) : null;
    });
    return json(out);
  }

  /**
   * The service works on every start in the background (live_status_app_conversation_service.py
   * runs `_start_app_conversation` as a task), whether or not anyone reads it. Reads drive
   * this fake's clock; a test whose Worker no longer reads some start (it follows another)
   * calls this to let every unfinished start move one status further.
   */
  advanceStarts(): void {
    for (const task of this.startTasks.values()) {
      const status = this.startTaskView(task).status;
      if (status !== "READY" && status !== "ERROR") this.step(task);
    }
  }

  private step(task: StartTaskState) {
    {
      task.step++;
      let view = this.startTaskView(task);
      if (view.status !== task.lastStatus) {
        // Each status is a save: save_app_conversation_start_task sets updated_at.
        task.lastStatus = view.status;
        task.updatedMs = Math.max(Date.now(), task.updatedMs + 1);
        task.updatedAt = isoMicros(task.updatedMs);
        view = this.startTaskView(task);
      }
      if (view.status !== "WORKING" && task.sandboxId) {
        const box = this.sandboxes.get(task.sandboxId);
        if (box) box.visible = true;
      }
      if (view.status === "READY") this.onReady(task);
      return view;
    }
  }

  /**
   * GET …/start-tasks/search and …/start-tasks/count, as app_conversation_router.py:
   * search_app_conversation_start_tasks validates (UUID, datetime, the sort enum,
   * 0 < limit <= 100, else 422) and sql_app_conversation_start_task_service.py:
   * search_app_conversation_start_tasks filters conversation_id__eq on the task's
   * app_conversation_id (set only at READY) and created_at__gte, sorts (CREATED_AT_DESC
   * by default), and pages by offset: page_id is the offset (a non-number starts from 0),
   * next_page_id is str(offset + limit) when there is more.
   */
  private searchStartTasks(q: URLSearchParams, count: boolean): Response {
    const errors: unknown[] = [];
    const wantedRaw = q.get("conversation_id__eq");
    const wanted = wantedRaw === null ? null : parseUuid(wantedRaw, true);
    if (wantedRaw !== null && !wanted) errors.push(uuidError(["query", "conversation_id__eq"], wantedRaw));
    const sinceRaw = q.get("created_at__gte");
    const since = sinceRaw === null ? null : parseDateTime(sinceRaw);
    if (sinceRaw !== null && since === null) {
      errors.push({
        type: "datetime_from_date_parsing",
        loc: ["query", "created_at__gte"],
        msg: "Input should be a valid datetime or date",
        input: sinceRaw,
      });
    }
    const order = count ? "CREATED_AT_DESC" : (q.get("sort_order") ?? "CREATED_AT_DESC");
    if (!START_TASK_SORT_ORDERS.includes(order)) {
      errors.push({
        type: "enum",
        loc: ["query", "sort_order"],
        msg: "Input should be 'CREATED_AT', 'CREATED_AT_DESC', 'UPDATED_AT' or 'UPDATED_AT_DESC'",
        input: order,
      });
    }
    const limitRaw = count ? "100" : (q.get("limit") ?? "100");
    const { limit, error: limitError } = queryLimit(limitRaw);
    if (limitError) errors.push(limitError);
    if (errors.length) return json({ detail: errors }, 422);

    let tasks = [...this.startTasks.values()].map((task) => ({ task, view: this.startTaskView(task) }));
    if (wanted) tasks = tasks.filter(({ view }) => view.app_conversation_id === wanted);
    if (since !== null) tasks = tasks.filter(({ task }) => task.createdMs >= since);
    if (count) return json(tasks.length);
    const key = order.startsWith("UPDATED_AT")
      ? (t: StartTaskState) => t.updatedMs
      : (t: StartTaskState) => t.createdMs;
    const sign = order.endsWith("_DESC") ? -1 : 1;
    tasks.sort((a, b) => sign * (key(a.task) - key(b.task) || a.task.seq - b.task.seq));
    const pageId = q.get("page_id");
    const offset = pageId !== null && /^\s*[+-]?\d+\s*$/.test(pageId) ? Math.max(0, Number(pageId)) : 0;
    const page = tasks.slice(offset, offset + limit);
    const more = tasks.length > offset + limit;
    return json({ items: page.map(({ view }) => view), next_page_id: more ? String(offset + limit) : null });
  }

  /**
   * At READY the conversation exists. A grouped duplicate that landed in the sandbox
   * already running this conversation gets it back from the agent-server
   * (agent_server/conversation_service.py: _start_conversation returns the existing
   * conversation for a known id): no second agent. In another sandbox the agent-server
   * there starts a new one under the same id and the app's record now points to it.
   */
  private onReady(task: StartTaskState): void {
    if (task.readyHandled) return;
    task.readyHandled = true;
    const existing = this.conversations.get(task.conversationId);
    if (existing && task.sandboxId && existing.sandboxId !== task.sandboxId) {
      existing.sandboxId = task.sandboxId;
      existing.reads = 0;
      existing.injected = [];
      existing.reloadedAsError = false;
      existing.agentStarts++;
      existing.createdAt = isoMicros(Date.now());
      return;
    }
    if (existing) return;
    const req = task.request;
    this.conversations.set(task.conversationId, {
      id: task.conversationId,
      sandboxId: task.sandboxId ?? task.conversationId,
      script: this.scriptFor(task.conversationId),
      reads: 0,
      repository: String(req.selected_repository ?? ""),
      branch: (req.selected_branch as string | null | undefined) ?? null,
      gitProvider: (req.git_provider as string | null | undefined) ?? null,
      // live_status_app_conversation_service.py: AppConversationInfo(trigger=request.trigger, …)
      trigger: (req.trigger as string | null | undefined) ?? null,
      prNumber: (req.pr_number as unknown[] | undefined) ?? [],
      llmModel: (req.llm_model as string | null | undefined) ?? "claude-sonnet-4-5",
      metrics: { cost: 0, promptTokens: 0, completionTokens: 0 },
      createdAt: isoMicros(Date.now()),
      events: [],
      messages: [],
      nextRuns: [],
      injected: [],
      agentStarts: 1,
      secrets: { ...task.secrets },
    });
  }

  // ---------------------------------------------------------------- conversations

  /**
   * GET /api/v1/app-conversations?ids=. app_conversation_router.py:
   * batch_get_app_conversations takes strings: 100 or more gives 400 "Maximum is 99",
   * an id Python's UUID() refuses gives 400 listing them.
   */
  private readConversations(q: URLSearchParams): Response {
    const ids = q.getAll("ids");
    if (!ids.length)
      return json({ detail: [{ type: "missing", loc: ["query", "ids"], msg: "Field required", input: null }] }, 422);
    if (ids.length >= 100) return json({ detail: "Too many ids requested. Maximum is 99." }, 400);
    const invalid = ids.filter((id) => !parseUuid(id));
    if (invalid.length)
      return json({ detail: `Invalid UUID format for ids: [${invalid.map(pyRepr).join(", ")}]` }, 400);
    const runtimeFailed = this.failedRuntimeReads > 0;
    if (runtimeFailed) this.failedRuntimeReads--;
    return json(
      ids.map((raw) => {
        const conversation = this.conversations.get(parseUuid(raw)!);
        if (!conversation || conversation.deleted) return null;
        const view = this.conversationView(conversation);
        return runtimeFailed
          ? {
              ...view,
              sandbox_status: "MISSING",
              execution_status: null,
              conversation_url: null,
              session_api_key: null,
            }
          : view;
      }),
    );
  }

  /** The sandbox status a pause/resume has not set yet comes from the scripts of its conversations. */
  private sandboxStatus(box: SandboxState): string {
    if (box.status === "PAUSED") return "PAUSED";
    if (box.status === "RUNNING") return box.startingReads > 0 ? "STARTING" : "RUNNING";
    const conversation = [...this.conversations.values()].find((c) => c.sandboxId === box.id);
    return conversation ? this.state(conversation, false).sandbox : "RUNNING";
  }

  /**
   * The sandbox and execution status of a conversation; `count` makes it a read that
   * moves the script on. live_status_app_conversation_service.py: _build_conversation
   * asks the agent-server only for RUNNING sandboxes, so execution_status is null otherwise.
   */
  private state(conversation: ConversationState, count: boolean): { sandbox: string; execution: string | null } {
    const box = this.sandboxes.get(conversation.sandboxId);
    // Paused by the API: the agent is frozen, so the script does not move.
    if (box?.status === "PAUSED") return { sandbox: "PAUSED", execution: null };
    if (box?.status === "RUNNING" && box.startingReads > 0) {
      if (count) box.startingReads--;
      return { sandbox: "STARTING", execution: null };
    }
    if (conversation.reloadedAsError) return { sandbox: "RUNNING", execution: "error" };
    if (conversation.injected.length) {
      const status = count ? conversation.injected.shift()! : conversation.injected[0]!;
      if (count) this.recordStatus(conversation, status);
      return { sandbox: "RUNNING", execution: status };
    }
    if (count) conversation.reads++;
    const execution = conversation.script.execution ?? DEFAULT_SCRIPT.execution!;
    const sandboxes = conversation.script.sandbox ?? [];
    const i = Math.max(0, Math.min(conversation.reads - 1, execution.length - 1));
    const sandbox = box?.status ?? sandboxes[Math.min(i, sandboxes.length - 1)] ?? "RUNNING";
    const status = execution[i] ?? null;
    if (count) this.recordStatus(conversation, status);
    return { sandbox, execution: sandbox === "RUNNING" ? status : null };
  }

  /** Persists events the way the agent-server does as the run goes on. */
  private recordStatus(
    conversation: ConversationState,
    status: string | null,
    options: { reload?: boolean } = {},
  ): void {
    const last = this.lastExecution(conversation);
    if (!status || last === status) return;
    const add = (event: Record<string, unknown>) =>
      conversation.events.push({
        id: crypto.randomUUID(),
        timestamp: new Date(Date.now() + conversation.events.length).toISOString().replace("Z", ""),
        ...event,
      });
    if (status === "finished" && conversation.script.finalMessage !== undefined) {
      add({
        kind: "MessageEvent",
        source: "agent",
        llm_message: { role: "assistant", content: [{ type: "text", text: "Working on it." }] },
        llm_response_id: "chatcmpl-1",
        activated_skills: [],
        extended_content: [],
        sender: null,
      });
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
    if (!options.reload && (status === "error" || status === "stuck") && conversation.script.error) {
      add({
        kind: "ConversationErrorEvent",
        source: "environment",
        code: conversation.script.error.code,
        detail: conversation.script.error.detail,
        classification: null,
      });
    }
    if (!options.reload && status === "error" && conversation.script.finalMessage) {
      add({
        kind: "MessageEvent",
        source: "agent",
        llm_message: { role: "assistant", content: [{ type: "text", text: conversation.script.finalMessage }] },
        llm_response_id: "chatcmpl-3",
        activated_skills: [],
        extended_content: [],
        sender: null,
      });
    }
    add({ kind: "ConversationStateUpdateEvent", source: "environment", key: "execution_status", value: status });
  }

  private lastExecution(conversation: ConversationState): unknown {
    return [...conversation.events].reverse().find((e) => e.kind === "ConversationStateUpdateEvent")?.value;
  }

  private conversationView(conversation: ConversationState) {
    const { sandbox, execution } = this.state(conversation, true);
    const running = sandbox === "RUNNING";
    // app_conversation_models.py: AppConversation = AppConversationInfo + live status.
    return {
      id: conversation.id,
      created_by_user_id: USER_ID,
      sandbox_id: conversation.sandboxId,
      selected_repository: conversation.repository,
      selected_branch: conversation.branch,
      git_provider: conversation.gitProvider,
      title: `Conversation ${conversation.id.slice(0, 5)}`,
      trigger: conversation.trigger,
      pr_number: conversation.prNumber,
      llm_model: conversation.llmModel,
      agent_kind: "openhands",
      // MetricsSnapshot as SQLAppConversationInfoService._to_info rebuilds it: never null, zeros
      // before the first model call, model_name always "default" (llm_model names the model).
      metrics: {
        model_name: "default",
        accumulated_cost: conversation.metrics.cost,
        max_budget_per_task: null,
        accumulated_token_usage: {
          model: "",
          prompt_tokens: conversation.metrics.promptTokens,
          completion_tokens: conversation.metrics.completionTokens,
          cache_read_tokens: 0,
          cache_write_tokens: 0,
          reasoning_tokens: 0,
          context_window: 0,
          per_turn_token: 0,
          response_id: "",
        },
      },
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

  /**
   * POST /api/v1/app-conversations/{id}/send-message. app_conversation_router.py:
   * send_message_to_conversation (AppSendMessageRequest: role 'user' only, content of at
   * least one item, run defaulting to true; 404 unknown, 410 MISSING, 503 ERROR, 409 any
   * other non-RUNNING sandbox) forwards to the agent-server, where
   * agent_server/event_service.py: send_message with run calls run(), and
   * openhands-sdk/…/local_conversation.py: run turns idle/paused/error/stuck into running.
   */
  private sendMessage(rawId: string, body: unknown): Response {
    const id = parseUuid(rawId, true);
    if (!id) return json({ detail: [uuidError(["path", "conversation_id"], rawId)] }, 422);
    const errors = validateSendMessage(body);
    if (errors.length) return json({ detail: errors }, 422);
    const req = body as Record<string, unknown>;
    const conversation = this.conversations.get(id);
    if (!conversation || conversation.deleted) return json({ detail: `Conversation ${dashed(id)} not found` }, 404);
    const box = this.sandboxes.get(conversation.sandboxId);
    if (!box) return json({ detail: `Sandbox not found for conversation ${dashed(id)}` }, 404);
    const { sandbox, execution } = this.state(conversation, false);
    if (sandbox === "MISSING") return json({ detail: "Conversation is archived. The sandbox no longer exists." }, 410);
    if (sandbox === "ERROR") return json({ detail: "Sandbox is in an error state and cannot accept messages." }, 503);
    if (sandbox !== "RUNNING") {
      return json(
        { detail: `Sandbox is ${sandbox}. Use POST /api/v1/sandboxes/${box.id}/resume to resume it first.` },
        409,
      );
    }
    const content = req.content as Record<string, unknown>[];
    conversation.messages.push(String(content.find((c) => typeof c.text === "string")?.text ?? ""));
    if (req.run !== false && execution !== "running") {
      conversation.reloadedAsError = false;
      // openhands-sdk local_conversation.py: send_message turns FINISHED and STUCK back to IDLE, and run()
      // (event_service.py send_message with run) sets any idle, paused, error or stuck agent RUNNING.
      const next = conversation.nextRuns.shift();
      if (next && (execution === "finished" || execution === "stuck" || execution === "error")) {
        conversation.script = { ...conversation.script, ...next };
        conversation.reads = 0;
      }
      conversation.injected.push("running");
    }
    return json({ success: true, sandbox_status: "RUNNING", message: null });
  }

  // ---------------------------------------------------------------- sandboxes

  /**
   * POST /api/v1/sandboxes/{sandbox_id}/pause|resume. app_server/sandbox/sandbox_router.py:
   * pause_sandbox / resume_sandbox raise HTTPException(404) (body {"detail": "Not Found"})
   * whenever the service returns False: for an id that is not a sandbox of the user (a
   * conversation id is not a sandbox id under a grouping setting), and for any runtime
   * error (remote_sandbox_service.py catches httpx.HTTPError and returns False).
   */
  private pauseOrResume(id: string, action: "pause" | "resume"): Response {
    const box = this.sandboxes.get(id);
    if (!box?.visible) return json(SANDBOX_NOT_FOUND_BODY, 404);
    if (this.runtimeErrors[action] > 0) {
      this.runtimeErrors[action]--;
      return json(SANDBOX_NOT_FOUND_BODY, 404);
    }
    const status = this.sandboxStatus(box);
    // remote_sandbox_service.py: a runtime the runtime API no longer has (MISSING) fails its lookup: False, 404.
    if (status === "MISSING") return json(SANDBOX_NOT_FOUND_BODY, 404);
    if (action === "pause") box.status = "PAUSED";
    else if (status !== "RUNNING" && status !== "STARTING") this.resumeSandbox(box);
    this.agentServerReported(box);
    return json({ success: true });
  }

  /**
   * A resumed sandbox starts a fresh agent-server, which reloads its conversations from
   * disk: agent_server/conversation_service.py: ConversationService.__aenter__ loads every
   * conversation whose stored execution_status is RUNNING, and agent_server/event_service.py:
   * EventService.start turns RUNNING into ERROR ("Any conversation loaded from disk with
   * RUNNING status is stale"), publishing the state change.
   */
  /** Its agent-server reported every conversation of the sandbox: their `created_at` moves (see ConversationState). */
  private agentServerReported(box: SandboxState): void {
    for (const conversation of this.conversations.values()) {
      if (conversation.sandboxId === box.id) conversation.createdAt = isoMicros(Date.now());
    }
  }

  private resumeSandbox(box: SandboxState): void {
    box.status = "RUNNING";
    box.startingReads = this.resumeStartingReads;
    for (const conversation of this.conversations.values()) {
      if (conversation.sandboxId !== box.id || this.lastExecution(conversation) !== "running") continue;
      conversation.reloadedAsError = true;
      conversation.injected = [];
      this.recordStatus(conversation, "error", { reload: true });
    }
  }

  /** GET /api/v1/sandboxes?id=. sandbox_router.py: batch_get_sandboxes (400 above 100). */
  private readSandboxes(ids: string[]): Response {
    if (!ids.length)
      return json({ detail: [{ type: "missing", loc: ["query", "id"], msg: "Field required", input: null }] }, 422);
    if (ids.length > 100)
      return json({ detail: `Cannot request more than 100 sandboxes at once, got ${ids.length}` }, 400);
    return json(
      ids.map((id) => {
        const box = this.sandboxes.get(id);
        if (!box?.visible) return null;
        const status = this.sandboxStatus(box);
        const running = status === "RUNNING";
        return {
          id: box.id,
          created_by_user_id: USER_ID,
          sandbox_spec_id: SANDBOX_SPEC_ID,
          status,
          session_api_key: status === "MISSING" ? null : this.sessionKey,
          exposed_urls: running ? [{ name: "AGENT_SERVER", url: this.agentServerUrl, port: 60000 }] : null,
          created_at: box.createdAt,
        };
      }),
    );
  }

  // ---------------------------------------------------------------- events, agent-server

  private searchEvents(conversationId: string, params: URLSearchParams): Response {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) return json({ items: [], next_page_id: null });
    let events = [...conversation.events];
    const kind = params.get("kind__eq");
    if (kind) events = events.filter((e) => e.kind === kind);
    if (params.get("sort_order") === "TIMESTAMP_DESC") events.reverse();
    // event_router.py: limit is `gt=0, le=100`, validated as the start-task search validates it.
    const { limit, error } = queryLimit(params.get("limit") ?? "100");
    if (error) return json({ detail: [error] }, 422);
    const offset = Number(params.get("page_id") ?? 0);
    const items = events.slice(offset, offset + limit);
    return json({ items, next_page_id: offset + limit < events.length ? String(offset + limit) : null });
  }

  /** The secrets a conversation's agent holds now, as its terminal would export them. */
  agentSecretsOf(conversationId: string): Record<string, string> {
    return { ...this.conversations.get(hex(conversationId))?.secrets };
  }

  /**
   * The agent-server's own REST API (openhands-agent-server conversation_router.py),
   * behind the sandbox's session key: `GET …/agent_final_response`, and
   * `POST …/secrets` with an UpdateSecretsRequest (`secrets`: name → a string or a
   * SecretSource object), answered `{"success": true}`, 404 for an unknown conversation.
   */
  private agentServer(method: string, path: string, sessionKey: string | undefined, body: unknown): Response {
    const match = path.match(/^\/api\/conversations\/([0-9a-f]{32})\/(agent_final_response|secrets)$/);
    const route = match ? `${method} ${match[2]}` : "";
    if (route !== "GET agent_final_response" && route !== "POST secrets") return json({ detail: "Not Found" }, 404);
    if (sessionKey !== this.sessionKey) return json({ detail: "Unauthorized" }, 401);
    const conversation = this.conversations.get(match![1]!);
    if (route === "POST secrets") {
      const secrets = isObject(body) ? body.secrets : undefined;
      if (!isObject(secrets) || !Object.values(secrets).every((v) => typeof v === "string" || isObject(v))) {
        return json(
          { detail: [{ type: "dict_type", loc: ["body", "secrets"], msg: "Input should be a valid dictionary" }] },
          422,
        );
      }
      if (!conversation) return json({ detail: "Not Found" }, 404);
      for (const [name, value] of Object.entries(secrets)) {
        if (typeof value === "string") conversation.secrets[name] = value;
      }
      return json({ success: true });
    }
    if (!conversation) return json({ detail: "Not Found" }, 404);
    const finished = conversation.events.some(
      (e) => e.kind === "ConversationStateUpdateEvent" && e.value === "finished",
    );
    return json({ response: finished ? (conversation.script.finalMessage ?? "") : "" });
  }
}

// ---------------------------------------------------------------- validation and shapes

/**
 * app_conversation_models.py: AppConversationStartRequest (unknown top-level keys are
 * ignored) with the SDK's SendMessageRequest (role user|system|assistant|tool, content
 * default [], run default false) and TextContent (extra keys forbidden) | ImageContent.
 */
function validateStartRequest(req: Record<string, unknown>): unknown[] {
  const errors: unknown[] = [];
  const str = (key: string) => {
    const value = req[key];
    if (value != null && typeof value !== "string")
      errors.push({ type: "string_type", loc: ["body", key], msg: "Input should be a valid string", input: value });
  };
  ["sandbox_id", "system_message_suffix", "llm_model", "selected_repository", "selected_branch", "title"].forEach(str);
  for (const key of ["conversation_id", "parent_conversation_id"]) {
    const value = req[key];
    if (value != null && (typeof value !== "string" || !parseUuid(value, true)))
      errors.push(uuidError(["body", key], value));
  }
  const message = req.initial_message;
  if (message != null) {
    if (!isObject(message)) {
      errors.push({
        type: "model_attributes_type",
        loc: ["body", "initial_message"],
        msg: "Input should be a valid dictionary or object to extract fields from",
        input: message,
      });
    } else {
      if (message.role !== undefined && !["user", "system", "assistant", "tool"].includes(String(message.role))) {
        errors.push({
          type: "literal_error",
          loc: ["body", "initial_message", "role"],
          msg: "Input should be 'user', 'system', 'assistant' or 'tool'",
          input: message.role,
        });
      }
      if (message.content !== undefined)
        errors.push(...contentErrors(message.content, ["body", "initial_message", "content"], 0));
      if (message.run !== undefined && typeof message.run !== "boolean") {
        errors.push({
          type: "bool_type",
          loc: ["body", "initial_message", "run"],
          msg: "Input should be a valid boolean",
          input: message.run,
        });
      }
    }
  }
  const enumCheck = (key: string, values: string[], nullable = true) => {
    const value = req[key];
    if ((value != null || (!nullable && value === null)) && !values.includes(String(value))) {
      errors.push({
        type: "enum",
        loc: ["body", key],
        msg: `Input should be ${values.map((v) => `'${v}'`).join(", ")}`,
        input: value,
      });
    }
  };
  enumCheck("git_provider", GIT_PROVIDERS);
  enumCheck("trigger", TRIGGERS);
  enumCheck("agent_type", ["default", "plan"], false);
  if (
    req.pr_number !== undefined &&
    (!Array.isArray(req.pr_number) || req.pr_number.some((n) => !Number.isInteger(n)))
  ) {
    errors.push({
      type: "list_type",
      loc: ["body", "pr_number"],
      msg: "Input should be a valid list of integers",
      input: req.pr_number,
    });
  }
  if (req.public != null && typeof req.public !== "boolean")
    errors.push({
      type: "bool_type",
      loc: ["body", "public"],
      msg: "Input should be a valid boolean",
      input: req.public,
    });
  if (
    req.secrets != null &&
    (!isObject(req.secrets) || Object.values(req.secrets).some((v) => typeof v !== "string"))
  ) {
    errors.push({
      type: "dict_type",
      loc: ["body", "secrets"],
      msg: "Input should be a valid dictionary of strings",
      input: req.secrets,
    });
  }
  return errors;
}

/** app_conversation_models.py: AppSendMessageRequest. */
function validateSendMessage(body: unknown): unknown[] {
  if (body === undefined) return [{ type: "missing", loc: ["body"], msg: "Field required", input: null }];
  if (!isObject(body))
    return [
      {
        type: "model_attributes_type",
        loc: ["body"],
        msg: "Input should be a valid dictionary or object to extract fields from",
        input: body,
      },
    ];
  const errors: unknown[] = [];
  if (body.role !== undefined && body.role !== "user")
    errors.push({
      type: "literal_error",
      loc: ["body", "role"],
      msg: "Input should be 'user'",
      input: body.role,
      ctx: { expected: "'user'" },
    });
  if (body.content === undefined)
    errors.push({ type: "missing", loc: ["body", "content"], msg: "Field required", input: body });
  else errors.push(...contentErrors(body.content, ["body", "content"], 1));
  if (body.run !== undefined && typeof body.run !== "boolean")
    errors.push({ type: "bool_type", loc: ["body", "run"], msg: "Input should be a valid boolean", input: body.run });
  return errors;
}

/** list[TextContent | ImageContent] (openhands-sdk/openhands/sdk/llm/message.py). */
function contentErrors(content: unknown, loc: (string | number)[], minLength: number): unknown[] {
  if (!Array.isArray(content)) return [{ type: "list_type", loc, msg: "Input should be a valid list", input: content }];
  if (content.length < minLength) {
    return [
      {
        type: "too_short",
        loc,
        msg: `List should have at least ${minLength} item after validation, not ${content.length}`,
        input: content,
        ctx: { field_type: "List", min_length: minLength, actual_length: content.length },
      },
    ];
  }
  const errors: unknown[] = [];
  content.forEach((item: unknown, i) => {
    if (!isObject(item)) {
      errors.push({
        type: "model_type",
        loc: [...loc, i, "TextContent"],
        msg: "Input should be a valid dictionary or instance of TextContent",
        input: item,
      });
      return;
    }
    const cacheOk = item.cache_prompt === undefined || typeof item.cache_prompt === "boolean";
    const textOk =
      (item.type === undefined || item.type === "text") &&
      typeof item.text === "string" &&
      cacheOk &&
      Object.keys(item).every((k) =>
        ["type", "text", "cache_prompt", "enable_truncation", "meta", "_meta"].includes(k),
      );
    const imageOk =
      item.type === "image" &&
      Array.isArray(item.image_urls) &&
      item.image_urls.every((u) => typeof u === "string") &&
      cacheOk;
    if (textOk || imageOk) return;
    const extra = Object.keys(item).find(
      (k) => !["type", "text", "cache_prompt", "enable_truncation", "meta", "_meta"].includes(k),
    );
    if (item.type !== "image" && extra) {
      errors.push({
        type: "extra_forbidden",
        loc: [...loc, i, "TextContent", extra],
        msg: "Extra inputs are not permitted",
        input: item[extra],
      });
    } else if (item.type === "image") {
      errors.push({
        type: "list_type",
        loc: [...loc, i, "ImageContent", "image_urls"],
        msg: "Input should be a valid list",
        input: item.image_urls,
      });
    } else {
      errors.push({ type: "missing", loc: [...loc, i, "TextContent", "text"], msg: "Field required", input: item });
    }
  });
  return errors;
}

/** The start request as the task stores and returns it: every field, defaults included, conversation_id dashed. */
function echoStartRequest(req: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of START_REQUEST_FIELDS) out[key] = req[key] ?? null;
  // conversation_id is a plain UUID (dumped dashed); parent_conversation_id is an OpenHandsUUID (hex).
  out.conversation_id = req.conversation_id != null ? dashed(parseUuid(String(req.conversation_id), true)!) : null;
  out.parent_conversation_id =
    req.parent_conversation_id != null ? parseUuid(String(req.parent_conversation_id), true) : null;
  const message = req.initial_message as Record<string, unknown> | null | undefined;
  out.initial_message = message
    ? {
        role: message.role ?? "user",
        content: ((message.content as Record<string, unknown>[] | undefined) ?? []).map((c) =>
          c.type === "image"
            ? { cache_prompt: c.cache_prompt ?? false, type: "image", image_urls: c.image_urls }
            : { cache_prompt: c.cache_prompt ?? false, type: "text", text: c.text },
        ),
        run: message.run ?? false,
      }
    : null;
  out.pr_number = req.pr_number ?? [];
  out.agent_type = req.agent_type ?? "default";
  // SecretStr values serialise masked.
  out.secrets = isObject(req.secrets)
    ? Object.fromEntries(Object.keys(req.secrets).map((k) => [k, "**********"]))
    : null;
  return out;
}

/**
 * The text str(exc) gives for the failed INSERT of a second v1_remote_sandbox row with
 * the same id (SQLAlchemy wrapping asyncpg's UniqueViolationError; the table's primary key
 * constraint gets PostgreSQL's default name). It only reaches a task as `detail` where the
 * flush happens inside _start_app_conversation's try (duplicateStart: "error").
 */
function duplicateKeyDetail(sandboxId: string): string {
  return (
    `(sqlalchemy.dialects.postgresql.asyncpg.IntegrityError) <class 'asyncpg.exceptions.UniqueViolationError'>: ` +
    `duplicate key value violates unique constraint "v1_remote_sandbox_pkey"\n` +
    `DETAIL:  Key (id)=(${sandboxId}) already exists.\n` +
    `[SQL: INSERT INTO v1_remote_sandbox (id, created_by_user_id, sandbox_spec_id, session_api_key_hash, created_at) ` +
    `VALUES ($1::VARCHAR, $2::VARCHAR, $3::VARCHAR, $4::VARCHAR, $5::TIMESTAMP WITH TIME ZONE)]\n` +
    `[parameters: ('${sandboxId}', '${USER_ID}', '${SANDBOX_SPEC_ID}', None, datetime.datetime(2026, 5, 4, 9, 15, 2, 481930, tzinfo=datetime.timezone.utc))]\n` +
    `(Background on this error at: https://sqlalche.me/e/20/gkpj)`
  );
}

/** A `limit` query parameter as FastAPI validates `Query(gt=0, le=100)`: the value, or pydantic's error for it. */
function queryLimit(limitRaw: string): { limit: number; error?: Record<string, unknown> } {
  const limit = /^\s*[+-]?\d+\s*$/.test(limitRaw) ? Number(limitRaw) : NaN;
  const loc = ["query", "limit"];
  if (Number.isNaN(limit)) {
    return {
      limit,
      error: {
        type: "int_parsing",
        loc,
        msg: "Input should be a valid integer, unable to parse string as an integer",
        input: limitRaw,
      },
    };
  }
  if (limit <= 0) {
    return {
      limit,
      error: { type: "greater_than", loc, msg: "Input should be greater than 0", input: limitRaw, ctx: { gt: 0 } },
    };
  }
  if (limit > 100) {
    const msg = "Input should be less than or equal to 100";
    return { limit, error: { type: "less_than_equal", loc, msg, input: limitRaw, ctx: { le: 100 } } };
  }
  return { limit };
}

function uuidError(loc: (string | number)[], input: unknown) {
  return typeof input === "string"
    ? {
        type: "uuid_parsing",
        loc,
        msg: "Input should be a valid UUID, invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `x` at 1",
        input,
      }
    : { type: "uuid_type", loc, msg: "UUID input should be a string, bytes or UUID object", input };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The hex form of a UUID, or null. `strict` follows pydantic's UUID (FastAPI query and
 * body params: hyphenated, simple, braced or urn form); otherwise Python's UUID(), which
 * app_conversation_router.py: batch_get_app_conversations uses on its string ids.
 */
function parseUuid(raw: string, strict = false): string | null {
  let s = raw;
  if (strict) {
    const m = s.match(
      /^(?:urn:uuid:)?(?:([0-9a-f]{32})|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|\{([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\})$/i,
    );
    if (!m) return null;
    s = m[1] ?? m[2] ?? m[3]!;
  } else {
    s = s
      .replace("urn:", "")
      .replace("uuid:", "")
      .replace(/^\{+|\}+$/g, "");
  }
  s = s.replace(/-/g, "").toLowerCase();
  return /^[0-9a-f]{32}$/.test(s) ? s : null;
}

function dashed(hexId: string): string {
  return `${hexId.slice(0, 8)}-${hexId.slice(8, 12)}-${hexId.slice(12, 16)}-${hexId.slice(16, 20)}-${hexId.slice(20)}`;
}

function pyRepr(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** Milliseconds since the epoch for a datetime query parameter as pydantic reads it, or null. */
function parseDateTime(raw: string): number | null {
  if (/^\s*-?\d+(\.\d+)?\s*$/.test(raw)) {
    const n = Number(raw);
    return Math.abs(n) > 2e10 ? n : n * 1000; // pydantic: large numbers are milliseconds
  }
  const m = raw.match(/^(\d{4}-\d{2}-\d{2})(?:[Tt _](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|z|[+-]\d{2}:?\d{2})?)?$/);
  if (!m) return null;
  const zone = m[3] ? m[3].toUpperCase().replace(/^([+-]\d{2})(\d{2})$/, "$1:$2") : "Z";
  const time = (m[2] ?? "00:00:00").replace(/(\.\d{3})\d+$/, "$1");
  const ms = Date.parse(`${m[1]}T${time}${zone}`);
  return Number.isNaN(ms) ? null : ms;
}

/** ISO-8601 UTC with microseconds, as the service writes timestamps. */
function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** remote_sandbox_service.py: start_sandbox names a sandbox base62.encodebytes(os.urandom(16)) when no id is given. */
function base62Id(): string {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let n = bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  let out = "";
  do {
    out = alphabet[Number(n % 62n)] + out;
    n /= 62n;
  } while (n > 0n);
  return out;
}

function hex(id: string): string {
  return id.replace(/-/g, "").toLowerCase();
}
