import { isServed } from "../github/app-identity";
import { httpStatus } from "../http-status";
import { log } from "../log";
import { knownAgentLogin, learnAgentLogin } from "../openhands/agent-account";
import { DEFAULT_REPO_CONFIG, type ParsedRepoConfig } from "../repo-config/parse";
import type { Services } from "../services";
import { conversationIdFor } from "../tasks/ids";
import type { ReceivedEvent } from "../tasks/received";
import type { TaskEntry } from "../tasks/store";
import { mayBeAgentWriting } from "../trigger/actor";
import { type CandidateEvent, decideEvent } from "../trigger/decide-event";
import type { Decision } from "../trigger/request";
import type { TriggerWords } from "../trigger/words";
import { recordRequest } from "./record-request";

/**
 * After this long without the repository's config (GitHub failing), the event is
 * judged by the defaults: a request with the usual mention still goes through,
 * and a custom mention is not worth holding every later tick for.
 */
const DECIDE_WITH_DEFAULTS_AFTER_MS = 30 * 60_000;

/**
 * Records an event that may be a request, before the webhook answers; `fresh`
 * is false for a redelivery (same event, same bytes, same id).
 */
export async function recordReceived(
  services: Services,
  input: { event: string; payload: unknown; rawBody: string; delivery?: string; candidate: CandidateEvent },
): Promise<{ received: ReceivedEvent; fresh: boolean }> {
  const received: ReceivedEvent = {
    kind: "received",
    id: conversationIdFor(`received:${input.event}:${input.rawBody}`),
    event: input.event,
    payload: input.payload,
    delivery: input.delivery,
    ...input.candidate,
    receivedAt: services.now().toISOString(),
  };
  return { received, fresh: await services.store.saveReceived(received) };
}

export type ReceivedOutcome = "ignored" | "command" | "recorded" | "duplicate" | "waiting";

/**
 * Decides a received event with its repository's config, then replaces the
 * record: by a task when it is a request, by nothing when it is not. The task
 * is written before the record is deleted, so a crash in between only makes
 * the cron find the task already recorded next time.
 */
export async function decideReceived(
  services: Services,
  received: ReceivedEvent,
  entries?: readonly TaskEntry[],
): Promise<ReceivedOutcome> {
  const known = await whatDecides(services, received);
  if (known === "waiting") return "waiting";
  if (known === "not_served") {
    await services.store.delete(received.id);
    log("info", "webhook.ignored", {
      delivery: received.delivery,
      githubEvent: received.event,
      reason: "account not served",
    });
    return "ignored";
  }
  const decision = await decideWith(services, received, known);
  if (decision === "waiting") return "waiting";
  if (!decision.run) {
    await services.store.delete(received.id);
    log("info", "webhook.ignored", {
      delivery: received.delivery,
      githubEvent: received.event,
      reason: decision.reason,
    });
    return "ignored";
  }
  const taken = await recordRequest(services, decision.request, received.delivery, entries);
  await services.store.delete(received.id);
  if (taken.kind !== "duplicate") await taken.run();
  return taken.kind;
}

/** Waiting is marked on the namespace, so that the cron's next tick lists it instead of skipping an idle one. */
async function wait(services: Services, event: string, received: ReceivedEvent, error: unknown): Promise<"waiting"> {
  log("warn", event, { received: received.id, status: httpStatus(error) });
  await services.store.markActive();
  return "waiting";
}

/** What the decision needs from GitHub: that the account is served, the App's words, the repository's config. */
async function whatDecides(
  services: Services,
  received: ReceivedEvent,
): Promise<{ words: TriggerWords; parsed: ParsedRepoConfig } | "waiting" | "not_served"> {
  let served: string[];
  try {
    served = await services.servedOwners();
  } catch (error) {
    // Never serve an account before knowing it may be served: wait for GitHub instead.
    return wait(services, "received.owner_unknown", received, error);
  }
  if (!isServed(served, received.owner)) return "not_served";
  let words: TriggerWords;
  try {
    words = await services.triggerWords();
  } catch (error) {
    // The mention is the App's slug, learnt from GitHub: deciding without it could take the wrong words. Asked only
    // once the account is known to be served, so that a stranger's event costs no GitHub call.
    return wait(services, "received.words_unknown", received, error);
  }
  try {
    return { words, parsed: await services.repoConfig(received.owner, received.repo, received.installationId) };
  } catch (error) {
    if (!decideWithDefaults(services, received)) return wait(services, "received.config_unavailable", received, error);
    log("warn", "received.config_defaults", { received: received.id, status: httpStatus(error) });
    return { words, parsed: { config: DEFAULT_REPO_CONFIG } };
  }
}

function decideWithDefaults(services: Services, received: ReceivedEvent): boolean {
  return services.now().getTime() - Date.parse(received.receivedAt) >= DECIDE_WITH_DEFAULTS_AFTER_MS;
}

async function decideWith(
  services: Services,
  received: ReceivedEvent,
  { words, parsed }: { words: TriggerWords; parsed: ParsedRepoConfig },
): Promise<Decision | "waiting"> {
  const deployment = {
    words,
    agentLogin: await knownAgentLogin(services.config, services.kv),
    receivedAt: Date.parse(received.receivedAt),
  };
  const decision = decideEvent(received.event, received.payload, parsed, deployment);
  // A request the agent-loop guard could refuse, were the agent's account known: learnt now, not by the next cron.
  if (!decision.run || deployment.agentLogin !== undefined || !mayBeAgentWriting(received.payload)) return decision;
  try {
    const agentLogin = await learnAgentLogin(
      services.config,
      services.kv,
      services.openhands,
      services.now().getTime(),
    );
    return decideEvent(received.event, received.payload, parsed, { ...deployment, agentLogin });
  } catch (error) {
    // The agent's own writing must not start another agent: wait for OpenHands as for the config, then decide.
    if (!decideWithDefaults(services, received)) return wait(services, "received.agent_unknown", received, error);
    log("warn", "received.agent_unknown_decided", { received: received.id, status: httpStatus(error) });
    return decision;
  }
}
