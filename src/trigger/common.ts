import { isObject } from "../is-object";
import { isAgentWriting, isDisallowedBot } from "./actor";
import type { CommonFields } from "./payload";
import type { AskedRequest, KindDecision, TriggerSettings } from "./request";

/**
 * The checks every trigger shares: an installation to act as, a human sender
 * (or an allowed bot), and not the agent itself writing `content` (undefined
 * for a label), which would start agent after agent.
 */
export function commonRejection(
  payload: CommonFields,
  settings: Pick<TriggerSettings, "allowedBots" | "agentLogin">,
  content?: object,
): string | undefined {
  if (!payload.installation?.id) return "no installation in payload";
  if (isDisallowedBot(payload.sender, settings.allowedBots)) return "sender is a bot";
  if (isAgentWriting(payload.sender, settings.agentLogin, content)) return "written by the agent's account";
  return undefined;
}

export function requestFrom(
  payload: CommonFields,
  fields: Omit<AskedRequest, "repository" | "owner" | "repo" | "installationId" | "requester">,
): KindDecision {
  return {
    run: true,
    request: {
      ...fields,
      repository: payload.repository.full_name,
      owner: payload.repository.owner.login,
      repo: payload.repository.name,
      installationId: payload.installation!.id,
      requester: payload.sender.login,
    },
  };
}

/** Label names of an issue or PR payload, ignoring anything malformed. */
export function labelNames(item: { labels?: unknown }): string[] {
  if (!Array.isArray(item.labels)) return [];
  return item.labels.map((l) => (isObject(l) ? l.name : undefined)).filter((n): n is string => typeof n === "string");
}
