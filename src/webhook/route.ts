import { Hono } from "hono";
import { ConfigError, type Env, loadConfig } from "../config";
import { log, redact } from "../log";
import { runCommand } from "../commands/run-command";
import { acceptRequest, recordRequest } from "../start/accept-request";
import { parseCommand } from "../trigger/command";
import { createServices } from "../start/services";
import { DEFAULT_REPO_CONFIG } from "../repo-config/parse";
import { loadRepoConfig } from "../repo-config/load";
import { decide, mayTrigger } from "./dispatch";
import { hasValidSignature } from "./verify";

/** GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;

export const webhookRoute = new Hono<{ Bindings: Env }>();

webhookRoute.post("/", async (c) => {
  let config;
  try {
    config = loadConfig(c.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log("error", "config.invalid", { problems: error.problems });
    return c.json({ error: "the App is not configured; see the Worker's logs" }, 500);
  }

  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return c.json({ error: "payload too large" }, 413);
  const rawBody = await c.req.text();
  if (rawBody.length > MAX_BODY_BYTES) return c.json({ error: "payload too large" }, 413);

  if (!(await hasValidSignature(config.webhookSecret, rawBody, c.req.header("x-hub-signature-256")))) {
    log("warn", "webhook.bad_signature", { delivery: c.req.header("x-github-delivery") });
    return c.json({ error: "invalid or missing signature" }, 401);
  }

  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch {
    return c.json({ error: "body is not valid JSON" }, 400);
  }
  const event = c.req.header("x-github-event");
  if (!event) return c.json({ error: "missing X-GitHub-Event header" }, 400);

  const delivery = c.req.header("x-github-delivery");
  const services = createServices(config, c.env.TASKS);
  // A custom mention, label or allowed bot lives in the repository's config: read it for candidates only.
  const candidate = mayTrigger(event, payload);
  const repoConfig = candidate
    ? await loadRepoConfig(() => services.github(candidate.installationId), c.env.TASKS, candidate.owner, candidate.repo)
    : { config: DEFAULT_REPO_CONFIG };
  const decision = decide(event, payload, repoConfig.config);
  if (!decision.run) {
    log("info", "webhook.ignored", { delivery, githubEvent: event, reason: decision.reason });
    return c.json({ ok: true, ignored: decision.reason }, 200);
  }
  if (repoConfig.problem && decision.request.settings) decision.request.settings.configProblem = repoConfig.problem;

  const command = decision.request.kind === "label" ? undefined : parseCommand(decision.request.request);
  if (command) {
    // Commands act on existing tasks and start nothing, so there is nothing to record first.
    c.executionCtx.waitUntil(
      runCommand(services, decision.request, command)
        .then((outcome) => log("info", "command.handled", { delivery, command, outcome }))
        .catch((error: unknown) =>
          log("error", "command.failed", { delivery, command, status: (error as { status?: number }).status, error: error instanceof Error ? error.name : "unknown" }),
        ),
    );
    return c.json({ ok: true, command }, 202);
  }
  let recorded;
  try {
    recorded = await recordRequest(services, decision.request);
  } catch (error) {
    // Not recorded means not accepted: a 5xx lets the delivery be redelivered.
    log("error", "webhook.record_failed", { delivery, githubEvent: event, error: error instanceof Error ? error.name : "unknown" });
    return c.json({ error: "could not record the request; please redeliver" }, 503);
  }
  if (recorded.duplicate) {
    return c.json({ ok: true, duplicate: decision.request.triggerKey, status: recorded.task.status }, 200);
  }

  // GitHub wants an answer within 10 s; the permission check and the start run after it.
  c.executionCtx.waitUntil(
    acceptRequest(services, recorded.task)
      .then((outcome) => log("info", "webhook.handled", { delivery, githubEvent: event, outcome }))
      .catch((error: unknown) =>
        log("error", "webhook.failed", {
          delivery,
          githubEvent: event,
          error: error instanceof Error ? error.name : "unknown",
          status: (error as { status?: number }).status,
          // Our own errors say what broke; upstream text never reaches here unredacted.
          message: error instanceof Error ? redact(error.message).slice(0, 300) : undefined,
        }),
      ),
  );
  return c.json({ ok: true, accepted: decision.request.triggerKey }, 202);
});
