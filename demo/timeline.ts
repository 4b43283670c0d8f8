import type { Exchange } from "./loopback";

/** Prints what happens, one line per step, with the seconds since the demo started. */
export class Timeline {
  private readonly startedAt = performance.now();
  private readonly color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

  step(icon: string, text: string): void {
    const seconds = ((performance.now() - this.startedAt) / 1000).toFixed(1).padStart(5);
    console.log(`${seconds}s  ${icon} ${text}`);
  }

  /** A continuation line under the previous step. */
  note(text: string): void {
    console.log(`${" ".repeat(10)}${this.dim(text)}`);
  }

  block(title: string, text: string): void {
    console.log(`\n${this.bold(title)}\n`);
    for (const line of text.split("\n")) console.log(`    ${line}`);
    console.log("");
  }

  dim(text: string): string {
    return this.color ? `\x1b[2m${text}\x1b[22m` : text;
  }

  bold(text: string): string {
    return this.color ? `\x1b[1m${text}\x1b[22m` : text;
  }
}

type Json = Record<string, any>;

/** Turns the fake GitHub's traffic into timeline steps. */
export function narrateGitHub(timeline: Timeline, exchange: Exchange): void {
  const { method, status } = exchange;
  const path = exchange.url.pathname;
  const body = (exchange.responseBody ?? {}) as Json;
  const sent = (exchange.requestBody ?? {}) as Json;
  let match: RegExpMatchArray | null;
  if (method === "POST" && (match = path.match(/^\/app\/installations\/(\d+)\/access_tokens$/))) {
    if (status === 201)
      timeline.step("🔑", `GitHub issued an installation token (installation ${match[1]}), the App's JWT checked out`);
    else timeline.step("⛔", `GitHub refused the App's JWT: HTTP ${status} ${body.message ?? ""}`);
  } else if (method === "GET" && (match = path.match(/\/collaborators\/([^/]+)\/permission$/))) {
    timeline.step(
      "🔐",
      `permission check: ${decodeURIComponent(match[1]!)} has role "${body.role_name}" (needs write or more)`,
    );
  } else if (method === "POST" && /\/issues\/comments\/\d+\/reactions$/.test(path)) {
    timeline.step("👀", `reaction "${sent.content}" added to the @openhands-app comment (HTTP ${status})`);
  } else if (method === "POST" && (match = path.match(/^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/))) {
    timeline.step("💬", `comment posted on ${match[1]}#${match[2]}: ${headline(String(sent.body ?? ""))}`);
  } else if (method === "PATCH" && /\/issues\/comments\/\d+$/.test(path)) {
    timeline.step("✏️ ", `tracking comment updated: ${headline(String(sent.body ?? ""))}`);
  } else {
    timeline.step("🐙", `GitHub ${method} ${path} → HTTP ${status}`);
  }
}

/** Turns the fake OpenHands' traffic into timeline steps, printing a status only when it changes. */
export class OpenHandsNarrator {
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly timeline: Timeline,
    private readonly baseUrl: string,
  ) {}

  observe(exchange: Exchange): void {
    const { method, status } = exchange;
    const path = exchange.url.pathname;
    const body = exchange.responseBody as Json | Json[] | undefined;
    if (status >= 400) {
      this.timeline.step("⛔", `OpenHands ${method} ${path} → HTTP ${status} ${JSON.stringify(body)}`);
    } else if (method === "POST" && path === "/api/v1/app-conversations") {
      const conversationId = String((exchange.requestBody as Json).conversation_id ?? "").replace(/-/g, "");
      this.timeline.step("🚀", `OpenHands conversation started: ${this.baseUrl}/conversations/${conversationId}`);
      this.timeline.note(`start task ${(body as Json).id}: ${(body as Json).status}`);
      this.seen.set(`start:${(body as Json).id}`, String((body as Json).status));
    } else if (method === "GET" && path === "/api/v1/app-conversations/start-tasks") {
      for (const task of (body as Json[]).filter(Boolean))
        this.change(`start:${task.id}`, task.status, "⏳", `start task: ${task.status}`);
    } else if (method === "GET" && path === "/api/v1/app-conversations") {
      for (const c of (body as Json[]).filter(Boolean)) {
        const state = `sandbox ${c.sandbox_status}, agent ${c.execution_status ?? "(none yet)"}`;
        this.change(`conversation:${c.id}`, state, "🤖", `conversation: ${state}`);
      }
    } else if (method === "GET" && path.endsWith("/agent_final_response")) {
      this.timeline.step(
        "📝",
        `agent's final answer read from the agent server: "${clip(String((body as Json).response ?? ""))}"`,
      );
    } else if (method === "GET" && path.endsWith("/events/search")) {
      this.timeline.step("📜", `conversation events searched (${((body as Json).items ?? []).length} found)`);
    } else {
      this.timeline.step("🤖", `OpenHands ${method} ${path} → HTTP ${status}`);
    }
  }

  private change(key: string, value: string, icon: string, text: string): void {
    if (this.seen.get(key) === value) return;
    this.seen.set(key, value);
    this.timeline.step(icon, text);
  }
}

/** The bold lead of a comment ("**OpenHands finished**"), or its first line. */
function headline(markdown: string): string {
  const bold = markdown.match(/\*\*(.+?)\*\*/);
  return clip(bold ? bold[1]! : (markdown.split("\n")[0] ?? ""));
}

function clip(text: string, max = 90): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
