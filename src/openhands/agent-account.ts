import type { Config } from "../config";
import { LearntFact } from "../learnt-fact";
import type { OpenHandsClient } from "./client";

/**
 * The GitHub account the agent writes as: the OpenHands key owner's. Whatever
 * it writes (a PR body quoting the mention, a comment, a label) must never
 * start another agent. `AGENT_GITHUB_LOGIN` when set, else asked of OpenHands.
 */
const agentLogin = new LearntFact("agent:login");

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

export async function learnAgentLogin(
  config: Pick<Config, "agentLogin">,
  kv: KVNamespace,
  openhands: OpenHandsClient,
): Promise<string> {
  return config.agentLogin ?? agentLogin.learn(kv, () => openhands.gitLogin());
}
