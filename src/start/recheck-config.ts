import { httpStatus } from "../http-status";
import { applyNewDecision } from "../lifecycle/queued";
import { log } from "../log";
import type { ParsedRepoConfig } from "../repo-config/parse";
import type { Services } from "../services";
import { type CandidateEvent, type Deployment, decideEvent } from "../trigger/decide-event";
import type { Decision } from "../trigger/request";
import { type Recorded, recordRequest } from "./record-request";

/**
 * The webhook decides with the repository config it already has, so as to
 * answer without GitHub. When this isolate has not checked that config lately,
 * it is read again after the answer; if it changed, the event is decided again
 * and the new decision wins: a request under the new config is taken, one
 * that no longer is a request is dropped before anything starts.
 */
async function decideAgain(
  services: Services,
  event: string,
  payload: unknown,
  candidate: CandidateEvent,
  known: ParsedRepoConfig,
  deployment: Deployment,
): Promise<Decision | undefined> {
  let rechecked: Awaited<ReturnType<Services["recheckRepoConfig"]>>;
  try {
    rechecked = await services.recheckRepoConfig(candidate.owner, candidate.repo, candidate.installationId, known);
  } catch (error) {
    // GitHub trouble: the decision made with the cached config stands.
    log("warn", "repo_config.recheck_failed", {
      repository: `${candidate.owner}/${candidate.repo}`,
      status: httpStatus(error),
    });
    return undefined;
  }
  if (!rechecked.changed) return undefined;
  log("info", "repo_config.changed", { repository: `${candidate.owner}/${candidate.repo}` });
  return decideEvent(event, payload, rechecked.value, deployment);
}

/** After an event ignored with an unchecked config: under the new config it may be a request. */
export async function recheckIgnored(
  services: Services,
  event: { name: string; payload: unknown; delivery?: string },
  candidate: CandidateEvent,
  known: ParsedRepoConfig,
  deployment: Deployment,
): Promise<void> {
  const decision = await decideAgain(services, event.name, event.payload, candidate, known, deployment);
  if (!decision?.run) return;
  const taken = await recordRequest(services, decision.request, event.delivery);
  if (taken.kind !== "duplicate") await taken.run();
}

/** After a request taken with an unchecked config: run it as the config now says. */
export async function recheckTaken(
  services: Services,
  event: { name: string; payload: unknown; delivery?: string },
  candidate: CandidateEvent,
  known: ParsedRepoConfig,
  deployment: Deployment,
  taken: Exclude<Recorded, { kind: "duplicate" }>,
): Promise<void> {
  const decision = await decideAgain(services, event.name, event.payload, candidate, known, deployment);
  if (decision === undefined) return taken.run();
  if (taken.kind === "command") return decision.run ? taken.run() : undefined;
  const task = await applyNewDecision(services, taken.task, decision);
  return task ? taken.run(task) : undefined;
}
