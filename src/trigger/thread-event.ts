import { OWN_MARKER } from "../own-marker";
import { commonRejection, labelNames, requestFrom } from "./common";
import { containsMention, requestText } from "./mention";
import type { IssuesLabeledEvent, IssuesOpenedEvent, PullRequestLabeledEvent, PullRequestOpenedEvent } from "./payload";
import type { KindDecision, TriggerSettings } from "./request";

type Opened = IssuesOpenedEvent | PullRequestOpenedEvent;
type Labeled = IssuesLabeledEvent | PullRequestLabeledEvent;

function thread(payload: Opened | Labeled) {
  return "pull_request" in payload
    ? { isPullRequest: true, item: payload.pull_request }
    : { isPullRequest: false, item: payload.issue };
}

/** An issue or PR opened with the mention in its body: the body is the request. */
export function checkOpened(payload: Opened, settings: TriggerSettings): KindDecision {
  const { isPullRequest, item } = thread(payload);
  const rejection = commonRejection(payload, settings, item);
  if (rejection) return { run: false, reason: rejection };
  // The agent's own PRs quote the request they answer; whoever's account opened them.
  const head = "pull_request" in payload ? payload.pull_request.head?.ref : undefined;
  if (settings.branchPrefix && typeof head === "string" && head.startsWith(settings.branchPrefix)) {
    return { run: false, reason: "a pull request from the agent's branch prefix" };
  }
  const body = item.body ?? "";
  if (body.includes(OWN_MARKER)) return { run: false, reason: "written by this App" };
  if (!containsMention(body, settings.mention)) return { run: false, reason: "no mention" };
  return requestFrom(payload, {
    kind: "opened",
    triggerKey: `${isPullRequest ? "pull_request" : "issues"}.opened:${item.id}`,
    number: item.number,
    isPullRequest,
    reactTo: { type: "issue", id: item.number },
    commentUrl: item.html_url,
    request: requestText(body, settings.mention),
    title: item.title,
    body: null,
    triggeredAt: item.created_at,
    labels: labelNames(item),
  });
}

/** The trigger label put on an issue or PR; the permission check is on who put it. */
export function checkLabeled(payload: Labeled, settings: TriggerSettings): KindDecision {
  const label = settings.label;
  const rejection = commonRejection(payload, settings);
  if (rejection) return { run: false, reason: rejection };
  const name = payload.label?.name?.toLowerCase();
  const { isPullRequest, item } = thread(payload);
  const review = isPullRequest && name === settings.reviewLabel.toLowerCase();
  if (name !== label.toLowerCase() && !review) return { run: false, reason: "not the trigger label" };
  return requestFrom(payload, {
    ...(review ? { review: { focus: "" } } : {}),
    kind: "label",
    // Removing and adding the label again is a new request.
    triggerKey: `${isPullRequest ? "pull_request" : "issues"}.labeled:${item.id}:${item.updated_at}`,
    number: item.number,
    isPullRequest,
    reactTo: { type: "issue", id: item.number },
    commentUrl: item.html_url,
    request: "",
    title: item.title,
    body: item.body,
    triggeredAt: item.updated_at,
    labels: labelNames(item),
  });
}
