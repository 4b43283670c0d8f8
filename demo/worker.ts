import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";

/** A failure the demo explains in words, with the evidence (e.g. wrangler's log) attached. */
export class DemoError extends Error {
  constructor(
    message: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = "DemoError";
  }
}

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/**
 * Keeps `wrangler dev` off the network: no metrics, no update check (the
 * banner does one), no download of Cloudflare's `request.cf` data.
 */
const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  FORCE_COLOR: "0",
  NO_COLOR: "1",
};

/** The Worker under `wrangler dev`, in local mode, with state and logs in `workDir`. */
export class DevWorker {
  private exit?: string;
  /** Once the group is gone its id may be reused, so it is never signalled again. */
  private stopped = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly logPath: string,
  ) {
    child.once("exit", (code, signal) => (this.exit = signal ? `exited on ${signal}` : `exited with code ${code}`));
    // Without a listener, a failed spawn (no npx on PATH) would crash the demo instead of explaining.
    child.once("error", (error) => (this.exit = `could not be started (${error.message})`));
  }

  /**
   * Starts wrangler; the caller owns the process from here on, ready or not
   * (see waitUntilReady). Synchronous, so no signal can arrive between the
   * spawn and the caller's taking note of it.
   */
  static spawn(workDir: string, port: number, vars: Record<string, string>): DevWorker {
    const logPath = join(workDir, "wrangler.log");
    // An explicit env file makes wrangler skip a developer's own .dev.vars / .env, and
    // keeps the demo's throwaway secrets out of the process list (where --var would show them).
    const envFile = join(workDir, "demo.env");
    writeFileSync(
      envFile,
      Object.entries(vars)
        .map(([name, value]) => `${name}=${JSON.stringify(value)}\n`)
        .join(""),
      { mode: 0o600 },
    );
    const args = [
      "--no", // never download: wrangler is a devDependency
      "wrangler",
      "dev",
      "--local",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--test-scheduled",
      "--persist-to",
      join(workDir, "state"),
      "--show-interactive-dev-session=false",
      "--env-file",
      envFile,
    ];
    const log = openSync(logPath, "a");
    const child = spawn("npx", args, {
      cwd: REPO_ROOT,
      // Its own process group, so stop() reaches workerd too, and Ctrl-C reaches only us.
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, ...OFFLINE_ENV, WRANGLER_LOG_PATH: join(workDir, "wrangler-logs") },
    });
    closeSync(log);
    return new DevWorker(child, `http://127.0.0.1:${port}`, logPath);
  }

  /** Runs the cron handler now, as Cloudflare would on schedule; resolves once it returned. */
  async scheduled(cron: string): Promise<void> {
    const response = await fetch(`${this.url}/__scheduled?cron=${encodeURIComponent(cron)}`, {
      signal: AbortSignal.timeout(30_000),
    });
    await response.text();
    if (!response.ok) throw new DemoError(`the cron trigger answered HTTP ${response.status}`, this.logTail());
  }

  /** The first of the Worker's JSON log lines whose `event` is one of `events`, once it appears. */
  async waitForLogEvent(events: string[], timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.logEvents().find((e) => events.includes(String(e.event)));
      if (found) return found;
      await sleep(100);
    }
    return undefined;
  }

  logTail(lines = 40): string {
    if (!existsSync(this.logPath)) return "(no log written)";
    // wrangler colours its errors even with NO_COLOR; the tail is for reading.
    const text = stripVTControlCharacters(readFileSync(this.logPath, "utf8"));
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  }

  /** SIGTERM to the whole group, SIGKILL to whatever is left after a grace period. */
  async stop(): Promise<void> {
    if (this.signalGroup("SIGTERM")) {
      const deadline = Date.now() + STOP_GRACE_MS;
      while (Date.now() < deadline && this.signalGroup(0)) await sleep(100);
      this.signalGroup("SIGKILL");
    }
    this.stopped = true;
  }

  /** For `process.on("exit")`, where nothing asynchronous runs any more. */
  killNow(): void {
    this.signalGroup("SIGKILL");
  }

  /** Signals wrangler's process group (npx, wrangler, workerd); false once none is left. */
  private signalGroup(signal: NodeJS.Signals | 0): boolean {
    if (this.stopped || this.child.pid === undefined) return false;
    try {
      process.kill(-this.child.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Until GET /healthz answers 200, or whatever `accept` takes: a Worker that is
   * not set up yet (test/browser/) answers, but not necessarily 200.
   */
  async waitUntilReady(accept: (status: number) => boolean = (status) => status === 200): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exit) throw new DemoError(`wrangler dev ${this.exit} before the Worker was ready`, this.logTail());
      if (await this.isHealthy(accept)) return;
      await sleep(250);
    }
    throw new DemoError(
      `the Worker did not answer GET /healthz within ${READY_TIMEOUT_MS / 1000} s of starting wrangler dev`,
      this.logTail(),
    );
  }

  private async isHealthy(accept: (status: number) => boolean): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await response.text();
      return accept(response.status);
    } catch {
      return false;
    }
  }

  /** The Worker logs one JSON object per line (src/log.ts); wrangler may prefix or decorate it. */
  private logEvents(): Record<string, unknown>[] {
    if (!existsSync(this.logPath)) return [];
    const events: Record<string, unknown>[] = [];
    for (const line of readFileSync(this.logPath, "utf8").split("\n")) {
      const start = line.indexOf('{"level":');
      const end = line.lastIndexOf("}");
      if (start < 0 || end < start) continue;
      try {
        events.push(JSON.parse(line.slice(start, end + 1)));
      } catch {
        // not one of the Worker's lines
      }
    }
    return events;
  }
}

/** A port nobody listens on right now (wrangler needs a number up front). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("could not find a free port");
  return address.port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
