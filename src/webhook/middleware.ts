import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { type Config, configOrLog, resolveEnv, type WorkerEnv } from "../config";
import { log } from "../log";
import { hasValidSignature } from "./verify";

/** What the webhook's middleware hands on to its handler. */
export interface WebhookVariables {
  /** The body exactly as GitHub sent and signed it. */
  rawBody: string;
  /** The bindings, with the App's credentials from /setup filled in when they were not set by hand. */
  env: WorkerEnv;
  config: Config;
  /** `X-GitHub-Event`. */
  event: string;
  /** The parsed body: its shape is checked by whoever reads it. */
  payload: unknown;
  /** `X-GitHub-Delivery`, for the logs. */
  delivery: string | undefined;
}

export type WebhookEnv = { Bindings: WorkerEnv; Variables: WebhookVariables };

/** GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;

/** Counted as the body streams in, with or without a Content-Length. */
export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => c.json({ error: "payload too large" }, 413),
});

/**
 * `X-Hub-Signature-256` over the exact bytes, before anything else: until it
 * checks out, the caller learns nothing about this deployment, not even
 * whether it is configured.
 */
export const requireSignature = createMiddleware<WebhookEnv>(async (c, next) => {
  const rawBody = await c.req.text();
  const env = await resolveEnv(c.env);
  const secret = env.GITHUB_WEBHOOK_SECRET?.trim();
  if (!secret) {
    log("error", "config.invalid", { problems: ["GITHUB_WEBHOOK_SECRET is not set"] });
    return c.json({ error: "internal error" }, 500);
  }
  if (!(await hasValidSignature(secret, rawBody, c.req.header("x-hub-signature-256")))) {
    log("warn", "webhook.bad_signature", { delivery: c.req.header("x-github-delivery") });
    return c.json({ error: "invalid or missing signature" }, 401);
  }
  c.set("rawBody", rawBody);
  c.set("env", env);
  await next();
});

/** The deployment's settings (parsed once per bindings object); what is missing is logged, never answered. */
export const requireSettings = createMiddleware<WebhookEnv>(async (c, next) => {
  const config = configOrLog(c.var.env);
  if (!config) return c.json({ error: "the App is not configured; see the Worker's logs" }, 500);
  c.set("config", config);
  await next();
});

/** A signed body that is JSON, with the event it is named as. */
export const readEvent = createMiddleware<WebhookEnv>(async (c, next) => {
  let payload: unknown;
  try {
    payload = JSON.parse(c.var.rawBody);
  } catch {
    return c.json({ error: "body is not valid JSON" }, 400);
  }
  const event = c.req.header("x-github-event");
  if (!event) return c.json({ error: "missing X-GitHub-Event header" }, 400);
  c.set("payload", payload);
  c.set("event", event);
  c.set("delivery", c.req.header("x-github-delivery"));
  await next();
});
