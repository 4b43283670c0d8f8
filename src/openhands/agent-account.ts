import type { Config } from "../config";
import { LearntFact } from "../learnt-fact";
import type { OpenHandsClient } from "./client";

/**
 * After OpenHands failed to say, how long this isolate does not ask again: a
 * webhook may ask (`learnAgentLogin` in decide-received), and a burst of
 * requests must not each wait on a failing OpenHands. Shorter than a cron period.
 */
const QUIET_AFTER_FAILURE_MS = 60_000;

/**
 * The GitHub account the agent writes as: the OpenHands key owner's. Whatever
 * it writes (a PR body quoting the mention, a comment, a label) must never
 * start another agent. `AGENT_GITHUB_LOGIN` when set, else asked of OpenHands.
 */
const agentLogin = new LearntFact("agent:login", QUIET_AFTER_FAILURE_MS);

/** Test hook: a cold isolate. */
export function forgetAgentLogin(): void {
  agentLogin.forget();
}

/** Known without asking OpenHands (setting, memory, KV); undefined until learnt. */
export async function knownAgentLogin(
  config: Pick<Config, "agentLogin">,
  kv: KVNamespace,
): Promise<string | undefined> {
  return config.agentLogin ?? (await agentLogin.known(kv));
}

/**
 * The account, asking OpenHands when it is not known (at most once a day, and
 * not again for a minute after a failure). The cron asks every tick; a request
 * the loop guard could refuse asks too, so the guard holds from the first
 * request on, not from the first cron.
 */
export async function learnAgentLogin(
  config: Pick<Config, "agentLogin">,
  kv: KVNamespace,
  openhands: OpenHandsClient,
  now = Date.now(),
): Promise<string> {
  return config.agentLogin ?? agentLogin.learn(kv, () => openhands.gitLogin(), now);
}
