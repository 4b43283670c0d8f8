import { isBot } from "../github/bot";
import { isObject } from "../is-object";

interface Sender {
  login: string;
  type?: string;
}

/**
 * Bots never trigger work: above all the App itself, whose own comments would
 * otherwise start a loop. Except a bot the repository allows in
 * `.github/openhands.yml` (logins compared case-insensitively).
 */
export function isDisallowedBot(sender: Sender, allowedBots: readonly string[]): boolean {
  return isBot(sender) && !allowedBots.includes(sender.login.toLowerCase());
}

/**
 * Written by the agent: its account, through an App. The agent writes with the
 * OpenHands key owner's GitHub App user token, so GitHub marks its comments and
 * PRs `performed_via_github_app`; the same person typing in GitHub's own UI is
 * not marked, and stays able to ask (a maintainer whose own OpenHands account
 * runs the agent). A label carries no such mark: any label from the account counts.
 */
export function isAgentWriting(sender: Sender, agentLogin: string | undefined, content?: object): boolean {
  if (!agentLogin || sender.login.toLowerCase() !== agentLogin.toLowerCase()) return false;
  return (
    content === undefined ||
    ((content as { performed_via_github_app?: unknown }).performed_via_github_app ?? null) !== null
  );
}

/**
 * Whether `isAgentWriting` could say yes to this event, were the agent's
 * account known: a label (any label from the account counts), or text GitHub
 * marks as written through an App. Such an event waits for the account to be
 * learnt before it is decided; text a person typed never needs it, so the
 * common request is still decided at once.
 */
export function mayBeAgentWriting(payload: unknown): boolean {
  if (!isObject(payload)) return false;
  if (payload.action === "labeled") return true;
  return [payload.comment, payload.review, payload.issue, payload.pull_request].some(
    (item) => isObject(item) && (item.performed_via_github_app ?? null) !== null,
  );
}

/**
 * GitHub's `author_association` for someone with no access to the repository. Such a person can
 * never be allowed, so what they write or open is refused from the signed payload alone: no KV write,
 * no GitHub call, nothing for an outsider to spend on a public repository.
 */
const NO_ACCESS = ["NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "CONTRIBUTOR"];

export function hasNoAccess(association: unknown): boolean {
  return typeof association === "string" && NO_ACCESS.includes(association);
}
