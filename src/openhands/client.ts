import { isObject } from "../is-object";
import { redact } from "../log";
import { errorMessage, OpenHandsError, retryAtFrom } from "./errors";
import type { Pacer } from "./pace";
import type { AppConversation, OpenHandsEvent, Page, StartConversationRequest, StartTask } from "./types";

/** `start-tasks?ids=` takes up to 100 ids; `app-conversations?ids=` answers 400 from 100 on. */
const START_TASK_BATCH = 100;
const CONVERSATION_BATCH = 99;
/** Pages of 100 start tasks searched for a lost start; the search is bounded by the task's age. */
export const START_TASK_SEARCH_PAGES = 3;

export interface OpenHandsClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  /** Keeps this invocation under the service's rate limit; none: every request goes out at once. */
  pacer?: Pacer;
}

/** A thin client for the OpenHands Cloud V1 API: one method per call the Worker makes. */
export class OpenHandsClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly pacer: Pacer | undefined;

  constructor(options: OpenHandsClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.pacer = options.pacer;
  }

  /** Web page a human can open; the API returns ids as 32 hex characters. */
  conversationLink(conversationId: string): string {
    return `${this.baseUrl}/conversations/${conversationId}`;
  }

  async startConversation(request: StartConversationRequest): Promise<StartTask> {
    const task = await this.call("POST", "/api/v1/app-conversations", { body: request });
    if (!isStartTask(task)) throw garbage("start conversation");
    return task;
  }

  /**
   * The start tasks made since `since` for a conversation id we chose, newest
   * first: how a start whose answer was lost, or a duplicate start, is traced
   * back. The service's `conversation_id__eq` filters on the conversation a task
   * produced, set only once READY (`sql_app_conversation_start_task_service.py`),
   * so a start in progress or failed is found by its creation time and the
   * conversation id echoed in its `request`, matched here.
   */
  async findStartTasks(conversationId: string, since: Date): Promise<StartTask[]> {
    const own = normalizeId(conversationId);
    const found: StartTask[] = [];
    let pageId: string | null = null;
    for (let page = 0; page < START_TASK_SEARCH_PAGES; page++) {
      const query: [string, string][] = [
        ["created_at__gte", since.toISOString()],
        ["sort_order", "CREATED_AT_DESC"],
        ["limit", "100"],
      ];
      if (pageId) query.push(["page_id", pageId]);
      const body = await this.call("GET", "/api/v1/app-conversations/start-tasks/search", { query });
      if (!isPage(body)) throw garbage("start task search");
      const items = body.items.filter(isStartTask);
      found.push(
        ...items.filter(
          (item) =>
            typeof item.request?.conversation_id === "string" && normalizeId(item.request.conversation_id) === own,
        ),
      );
      pageId = typeof body.next_page_id === "string" ? body.next_page_id : null;
      if (!pageId) break;
    }
    return found;
  }

  /**
   * The first start task that produced this conversation, or null. The service sets a
   * task's `app_conversation_id` once it is READY, and a task's `created_at` never
   * changes, unlike the conversation's own (sql_app_conversation_start_task_service.py).
   */
  async readyStartTaskOf(conversationId: string): Promise<StartTask | null> {
    const body = await this.call("GET", "/api/v1/app-conversations/start-tasks/search", {
      query: [
        ["conversation_id__eq", normalizeId(conversationId)],
        ["sort_order", "CREATED_AT"],
        ["limit", "1"],
      ],
    });
    if (!isPage(body)) throw garbage("start task search");
    return body.items.find(isStartTask) ?? null;
  }

  /**
   * The GitHub login of the key's owner: the account the agent pushes, opens PRs
   * and comments as (`/api/v1/users/git-info`, from the owner's GitHub token).
   */
  async gitLogin(): Promise<string> {
    const info = await this.call("GET", "/api/v1/users/git-info");
    const login = isObject(info) ? info.login : undefined;
    if (typeof login !== "string" || !login) throw garbage("git info");
    return login;
  }

  async startTasks(ids: readonly string[]): Promise<(StartTask | null)[]> {
    return this.batchRead("/api/v1/app-conversations/start-tasks", ids, START_TASK_BATCH, isStartTask);
  }

  async conversations(ids: readonly string[]): Promise<(AppConversation | null)[]> {
    return this.batchRead("/api/v1/app-conversations", ids, CONVERSATION_BATCH, isConversation);
  }

  async searchEvents(
    conversationId: string,
    options: { kind?: string; newestFirst?: boolean; limit?: number; pageId?: string | null } = {},
  ): Promise<Page<OpenHandsEvent>> {
    const query: [string, string][] = [["limit", String(options.limit ?? 100)]];
    if (options.newestFirst) query.push(["sort_order", "TIMESTAMP_DESC"]);
    if (options.kind) query.push(["kind__eq", options.kind]);
    if (options.pageId) query.push(["page_id", options.pageId]);
    const page = await this.call("GET", `/api/v1/conversation/${encodeURIComponent(conversationId)}/events/search`, {
      query,
    });
    if (!isPage(page)) throw garbage("event search");
    return { items: page.items.filter(isEvent), next_page_id: page.next_page_id ?? null };
  }

  /** Asks the agent-server directly; only works while the sandbox runs. */
  async agentFinalResponse(conversation: AppConversation): Promise<string> {
    if (!conversation.conversation_url || !conversation.session_api_key) {
      throw new OpenHandsError("the sandbox exposes no agent-server URL", undefined, false);
    }
    const body = await this.call("GET", "", {
      absoluteUrl: `${conversation.conversation_url.replace(/\/+$/, "")}/agent_final_response`,
      headers: { "X-Session-API-Key": conversation.session_api_key },
    });
    const response = (body as { response?: unknown } | null)?.response;
    if (typeof response !== "string") throw garbage("agent final response");
    return response;
  }

  /**
   * Replaces secrets of a running conversation on its agent-server (the SDK's
   * `POST /api/conversations/{id}/secrets`, `UpdateSecretsRequest`): the next
   * command that names one gets the new value.
   */
  async updateSecrets(conversation: AppConversation, secrets: Record<string, string>): Promise<void> {
    if (!conversation.conversation_url || !conversation.session_api_key) {
      throw new OpenHandsError("the sandbox exposes no agent-server URL", undefined, false);
    }
    const body = await this.call("POST", "", {
      absoluteUrl: `${conversation.conversation_url.replace(/\/+$/, "")}/secrets`,
      headers: { "X-Session-API-Key": conversation.session_api_key },
      body: { secrets },
    });
    if ((body as { success?: unknown } | null)?.success !== true) throw garbage("secrets update");
  }

  /** A follow-up for a conversation whose sandbox runs; 409 when it is not running. */
  async sendMessage(conversationId: string, text: string): Promise<void> {
    const body = await this.call(
      "POST",
      `/api/v1/app-conversations/${encodeURIComponent(conversationId)}/send-message`,
      {
        body: { role: "user", content: [{ type: "text", text }], run: true },
      },
    );
    if ((body as { success?: unknown } | null)?.success !== true) {
      throw new OpenHandsError("OpenHands did not accept the follow-up", undefined, false);
    }
  }

  /** Stops the runtime and frees a slot; the conversation stays readable at its link. */
  async pauseSandbox(sandboxId: string): Promise<void> {
    await this.call("POST", `/api/v1/sandboxes/${encodeURIComponent(sandboxId)}/pause`);
  }

  async resumeSandbox(sandboxId: string): Promise<void> {
    await this.call("POST", `/api/v1/sandboxes/${encodeURIComponent(sandboxId)}/resume`);
  }

  private async batchRead<T>(
    path: string,
    ids: readonly string[],
    batchSize: number,
    isItem: (value: unknown) => value is T,
  ): Promise<(T | null)[]> {
    const out: (T | null)[] = [];
    for (let i = 0; i < ids.length; i += batchSize) {
      const chunk = ids.slice(i, i + batchSize);
      const body = await this.call("GET", path, { query: chunk.map((id) => ["ids", id]) });
      if (!Array.isArray(body) || body.length !== chunk.length) throw garbage(`batch read ${path}`);
      for (const item of body) {
        if (item !== null && !isItem(item)) throw garbage(`batch read ${path}`);
        out.push(item);
      }
    }
    return out;
  }

  private async call(
    method: "GET" | "POST",
    path: string,
    options: {
      body?: unknown;
      query?: [string, string][];
      absoluteUrl?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<unknown> {
    const url = new URL(options.absoluteUrl ?? `${this.baseUrl}${path}`);
    for (const [key, value] of options.query ?? []) url.searchParams.append(key, value);
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    // The session key, not the account key, goes to the agent-server.
    if (!options.absoluteUrl) headers.Authorization = `Bearer ${this.apiKey}`;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";

    const { response, body } = await this.send(method, url, headers, options.body);
    if (response.ok) {
      if (body === undefined) throw garbage(`${method} ${url.pathname}`);
      return body;
    }
    const message = redact(errorMessage(body, response.status), [this.apiKey]);
    const retryable = response.status === 429 || response.status === 408 || response.status >= 500;
    throw new OpenHandsError(
      `OpenHands answered ${response.status}: ${message}`,
      response.status,
      retryable,
      retryAtFrom(response, body, this.now()),
    );
  }

  /** One request, paced, with the rate limiter's short waits sat out; `body` is undefined when not JSON. */
  private async send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    payload: unknown,
  ): Promise<{ response: Response; body: unknown }> {
    const firstTriedAt = this.pacer?.now() ?? 0;
    for (;;) {
      await this.pacer?.slot();
      let response: Response;
      try {
        response = await this.fetch(url, {
          method,
          headers,
          body: payload === undefined ? undefined : JSON.stringify(payload),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        const reason = error instanceof Error && error.name === "TimeoutError" ? "timed out" : "network error";
        throw new OpenHandsError(`OpenHands ${method} ${url.pathname}: ${reason}`, undefined, true);
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = undefined;
      }
      // The next slot() sits out the wait.
      if (!this.pacer?.waitsOut(response, body, firstTriedAt)) return { response, body };
    }
  }
}

function garbage(what: string): OpenHandsError {
  return new OpenHandsError(`OpenHands sent an unreadable answer to ${what}`, undefined, true);
}

function isStartTask(value: unknown): value is StartTask {
  return isObject(value) && typeof value.id === "string" && typeof value.status === "string";
}

function isConversation(value: unknown): value is AppConversation {
  return isObject(value) && typeof value.id === "string" && typeof value.sandbox_status === "string";
}

function isEvent(value: unknown): value is OpenHandsEvent {
  return isObject(value) && typeof value.kind === "string";
}

function isPage(value: unknown): value is Page<unknown> {
  return isObject(value) && Array.isArray(value.items);
}

/** Ids come back as 32 lowercase hex characters; the dashed form is accepted as input. */
export function normalizeId(id: string): string {
  return id.replace(/-/g, "").toLowerCase();
}
