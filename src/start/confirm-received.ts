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
import { type CandidateEvent, decide } from "../trigger/dispatch";
import type { TriggerWords } from "../trigger/words";
import { takeRequest } from "./take-request";

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

export type ConfirmOutcome = "ignored" | "command" | "recorded" | "duplicate" | "waiting";

/**
 * Decides a received event with its repository's config, then replaces the
 * record: by a task when it is a request, by nothing when it is not. The task
 * is written before the record is deleted, so a crash in between only makes
 * the cron find the task already recorded next time.
 */
export async function confirmReceived(
  services: Services,
  received: ReceivedEvent,
  entries?: readonly TaskEntry[],
): Promise<ConfirmOutcome> {
  let served: string[];
  try {
    served = await services.servedOwners();
  } catch (error) {
    // Never serve an account before knowing it may be served: wait for GitHub instead.
    log("warn", "received.owner_unknown", { received: received.id, status: httpStatus(error) });
    await services.store.markActive();
    return "waiting";
  }
  if (!isServed(served, received.owner)) {
    await services.store.delete(received.id);
    log("info", "webhook.ignored", {
      delivery: received.delivery,
      githubEvent: received.event,
      reason: "account not served",
    });
    return "ignored";
  }
  let words: TriggerWords;
  try {
    words = await services.triggerWords();
  } catch (error) {
    // The mention is the App's slug, learnt from GitHub: deciding without it could take the wrong words. Asked only
    // once the account is known to be served, so that a stranger's event costs no GitHub call.
    log("warn", "received.words_unknown", { received: received.id, status: httpStatus(error) });
    await services.store.markActive();
    return "waiting";
  }
  let parsed: ParsedRepoConfig;
  try {
    parsed = await services.repoConfig(received.owner, received.repo, received.installationId);
  } catch (error) {
    const status = httpStatus(error);
    if (services.now().getTime() - Date.parse(received.receivedAt) < DECIDE_WITH_DEFAULTS_AFTER_MS) {
      log("warn", "received.config_unavailable", { received: received.id, status });
      // So that the cron's next tick lists it instead of skipping an idle namespace.
      await services.store.markActive();
      return "waiting";
    }
    log("warn", "received.config_defaults", { received: received.id, status });
    parsed = { config: DEFAULT_REPO_CONFIG };
  }
  const deployment = {
    words,
    agentLogin: await knownAgentLogin(services.config, services.kv),
    receivedAt: Date.parse(received.receivedAt),
  };
  let decision = decide(received.event, received.payload, parsed, deployment);
  // A request the agent-loop guard could refuse, were the agent's account known: learnt now, not by the next cron.
  if (decision.run && deployment.agentLogin === undefined && mayBeAgentWriting(received.payload)) {
    try {
      const agentLogin = await learnAgentLogin(
        services.config,
        services.kv,
        services.openhands,
        services.now().getTime(),
      );
      decision = decide(received.event, received.payload, parsed, { ...deployment, agentLogin });
    } catch (error) {
      // The agent's own writing must not start another agent: wait for OpenHands as for the config, then decide.
      const status = httpStatus(error);
      if (services.now().getTime() - Date.parse(received.receivedAt) < DECIDE_WITH_DEFAULTS_AFTER_MS) {
        log("warn", "received.agent_unknown", { received: received.id, status });
        await services.store.markActive();
        return "waiting";
      }
      log("warn", "received.agent_unknown_decided", { received: received.id, status });
    }
  }
  if (!decision.run) {
    await services.store.delete(received.id);
    log("info", "webhook.ignored", {
      delivery: received.delivery,
      githubEvent: received.event,
      reason: decision.reason,
    });
    return "ignored";
  }
  const taken = await takeRequest(services, decision.request, received.delivery, entries);
  await services.store.delete(received.id);
  if (taken.kind !== "duplicate") await taken.run();
  return taken.kind;
}
