import { Hono } from "hono";
import { configOrLog, resolveEnv, type WorkerEnv } from "./config";
import { httpStatus } from "./http-status";
import { errorName, log } from "./log";
import { learnAgentLogin } from "./openhands/agent-account";
import { healthRoute } from "./ops/health";
import { statusRoute } from "./ops/status";
import { recordTick } from "./ops/tick-record";
import { statusToken } from "./ops/token";
import { CRON_PERIOD_MS } from "./poller/cron-period";
import { pollTasks } from "./poller/poll";
import { createServices } from "./services";
import { setupRoute } from "./setup/route";
import { webhookRoute } from "./webhook/route";

const app = new Hono<{ Bindings: WorkerEnv }>();

app.route("/healthz", healthRoute);
app.route("/status", statusRoute);
app.route("/api/github/webhooks", webhookRoute);
app.route("/setup", setupRoute);
app.notFound((c) => c.json({ error: "not found" }, 404));
app.onError((error, c) => {
  log("error", "http.unhandled", { path: c.req.path, error: error.name });
  return c.json({ error: "internal error" }, 500);
});

/** Once an hour, list even without recent activity, in case the activity marker was lost. */
function isSweepTick(scheduledTime: number): boolean {
  return scheduledTime % HOUR_MS < CRON_PERIOD_MS;
}
const HOUR_MS = 3600_000;

async function scheduled(controller: ScheduledController, env: WorkerEnv, _ctx: ExecutionContext): Promise<void> {
  env = await resolveEnv(env);
  // Logged and returned: throwing would only make the cron fail the same way every tick.
  const config = configOrLog(env);
  if (!config) return;
  // A tick judges deadlines as of its scheduled time when that is later than the
  // clock, which is never in production and is how tests simulate time passing.
  const now = () => new Date(Math.max(Date.now(), controller.scheduledTime));
  const services = createServices(config, env.TASKS, now);
  // Learn (once a day) which account the App serves and which one the agent writes as,
  // so that webhooks can tell at once.
  await services
    .appIdentity()
    .catch((error: unknown) => log("warn", "app.owner_unavailable", { status: httpStatus(error) }));
  await learnAgentLogin(config, services.kv, services.openhands).catch((error: unknown) =>
    log("warn", "agent.login_unavailable", { status: httpStatus(error) }),
  );
  const report = await pollTasks(services, { sweep: isSweepTick(controller.scheduledTime) });
  if (report.listed) log("info", "poll.done", { ...report });
  // For GET /status: this tick's usage, saved at most every thirty minutes, and only when someone can read it.
  if (statusToken(env)) {
    await recordTick(services, report).catch((error: unknown) =>
      log("warn", "status.not_recorded", { error: errorName(error) }),
    );
  }
}

export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<WorkerEnv>;
