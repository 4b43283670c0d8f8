import { type Context, Hono } from "hono";
import { isServed, knownTriggerWords, servedOwners } from "../github/app-identity";
import { errorName, log } from "../log";
import { knownAgentLogin } from "../openhands/agent-account";
import { type CachedRepoConfig, cachedRepoConfig } from "../repo-config/load";
import { createServices, type Services } from "../services";
import { decideReceived, recordReceived } from "../start/decide-received";
import { recheckIgnored, recheckTaken } from "../start/recheck-config";
import { type Recorded, recordRequest } from "../start/record-request";
import { mayBeAgentWriting } from "../trigger/actor";
import {
  type CandidateEvent,
  decideEvent,
  mayTrigger,
  reasonToIgnore,
  refusedAtOnce,
  repositoryOwnerOf,
} from "../trigger/decide-event";
import type { TriggerWords } from "../trigger/words";
import { limitBody, readEvent, requireSettings, requireSignature, type WebhookEnv } from "./middleware";

/**
 * Work left for `waitUntil`, started on a later turn of the event loop: its
 * synchronous first steps would otherwise run before GitHub gets its answer.
 */
function afterAnswer<T>(work: () => Promise<T>): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, 0)).then(work);
}

/** Work after the answer that failed: the cron's sweep or the next event picks it up. */
function deferred(error: unknown): void {
  log("warn", "webhook.after_answer_failed", { error: errorName(error) });
}

type WebhookContext = Context<WebhookEnv>;

export const webhookRoute = new Hono<WebhookEnv>();

webhookRoute.post("/", limitBody, requireSignature, requireSettings, readEvent, async (c) => {
  const { env, config, event, payload } = c.var;
  // Most deliveries ask for nothing: the payload alone says so, before any KV read.
  const candidate = mayTrigger(event, payload);
  if (!candidate) return ignored(c, reasonToIgnore(event, payload));
  // Only the accounts this deployment serves: a stranger who installs the App on their own
  // repository (where they are admin) must not run agents on the operator's credits.
  const served = await servedOwners(config, env.TASKS);
  const owner = repositoryOwnerOf(payload);
  if (served && owner !== undefined && !isServed(served, owner))
    return ignored(c, "account not served by this App", "account not served");
  const refusal = refusedAtOnce(event, payload);
  if (refusal) return ignored(c, refusal);
  const services = createServices(config, env.TASKS);
  // A custom mention, label or allowed bot lives in the repository's config. It is
  // used here only when known without GitHub (isolate memory or KV): the answer must
  // not wait on GitHub, which may take longer than GitHub waits for us (10 s).
  const known = await cachedRepoConfig(env.TASKS, candidate.owner, candidate.repo);
  const words = await knownTriggerWords(config, env.TASKS);
  // Not knowing the config, whether this account is served, or the mention (the App's
  // owner and slug are learnt from GitHub), is decided after the answer.
  if (!known || !served || !words) return decideLater(c, services, candidate);
  return decideNow(c, services, candidate, known, words);
});

function ignored(c: WebhookContext, reason: string, logged = reason) {
  log("info", "webhook.ignored", { delivery: c.var.delivery, githubEvent: c.var.event, reason: logged });
  return c.json({ ok: true, ignored: reason }, 200);
}

/** Not recorded means not accepted: a 5xx lets the delivery be redelivered. */
function notRecorded(c: WebhookContext, error: unknown) {
  log("error", "webhook.record_failed", {
    delivery: c.var.delivery,
    githubEvent: c.var.event,
    error: errorName(error),
  });
  return c.json({ error: "could not record the request; please redeliver" }, 503);
}

/** Decided after the answer, once what it needs is learnt; the cron finishes it if this is cut short. */
async function decideLater(c: WebhookContext, services: Services, candidate: CandidateEvent) {
  const { event, payload, rawBody, delivery } = c.var;
  let recorded: Awaited<ReturnType<typeof recordReceived>>;
  try {
    recorded = await recordReceived(services, { event, payload, rawBody, delivery, candidate });
  } catch (error) {
    return notRecorded(c, error);
  }
  const { received, fresh } = recorded;
  if (!fresh) return c.json({ ok: true, duplicate: received.id }, 200);
  c.executionCtx.waitUntil(
    afterAnswer(() => decideReceived(services, received))
      .then((outcome) => log("info", "received.confirmed", { delivery, received: received.id, outcome }))
      .catch((error: unknown) =>
        log("warn", "received.deferred", { delivery, received: received.id, error: errorName(error) }),
      ),
  );
  return c.json({ ok: true, received: received.id }, 202);
}

/** Decided before the answer, with what is known without GitHub; a request is recorded before GitHub hears back. */
async function decideNow(
  c: WebhookContext,
  services: Services,
  candidate: CandidateEvent,
  known: CachedRepoConfig,
  words: TriggerWords,
) {
  const { event, payload, delivery } = c.var;
  const agentLogin = await knownAgentLogin(services.config, services.kv);
  const deployment = { words, agentLogin, receivedAt: services.now().getTime() };
  const decision = decideEvent(event, payload, known.value, deployment);
  const delivered = { name: event, payload, delivery };
  if (!decision.run) {
    if (!known.fresh)
      c.executionCtx.waitUntil(
        afterAnswer(() => recheckIgnored(services, delivered, candidate, known.value, deployment)).catch(deferred),
      );
    return ignored(c, decision.reason);
  }
  // A request the agent-loop guard could refuse, were the agent's account known (learnt from OpenHands).
  if (agentLogin === undefined && mayBeAgentWriting(payload)) return decideLater(c, services, candidate);
  let taken: Recorded;
  try {
    taken = await recordRequest(services, decision.request, delivery);
  } catch (error) {
    return notRecorded(c, error);
  }
  if (taken.kind === "duplicate") {
    return c.json({ ok: true, duplicate: decision.request.triggerKey, status: taken.task.status }, 200);
  }
  // GitHub wants an answer within 10 s; the permission check and the start run after it.
  c.executionCtx.waitUntil(
    afterAnswer(() =>
      known.fresh ? taken.run() : recheckTaken(services, delivered, candidate, known.value, deployment, taken),
    ).catch(deferred),
  );
  return taken.kind === "command"
    ? c.json({ ok: true, command: taken.command }, 202)
    : c.json({ ok: true, accepted: decision.request.triggerKey }, 202);
}
