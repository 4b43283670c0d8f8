import { OWN_MARKER } from "../own-marker";
import { isDisallowedBot } from "./actor";
import { commonRejection, labelNames, requestFrom } from "./common";
import { containsMention, requestText } from "./mention";
import type { IssueCommentEvent } from "./payload";
import type { KindDecision, TriggerSettings } from "./request";

/**
 * A comment on an issue or a PR's conversation. An edit counts only when it
 * adds the mention: fixing a typo in an already handled request starts nothing.
 */
export function checkIssueComment(payload: IssueCommentEvent, settings: TriggerSettings): KindDecision {
  const { comment, issue } = payload;
  const rejection = commonRejection(payload, settings, comment);
  if (rejection) return { run: false, reason: rejection };
  if (isDisallowedBot(comment.user, settings.allowedBots)) return { run: false, reason: "sender is a bot" };
  if (comment.body.includes(OWN_MARKER)) return { run: false, reason: "comment written by this App" };
  if (!containsMention(comment.body, settings.mention)) return { run: false, reason: "no mention" };
  let triggerKey = `issue_comment:${comment.id}`;
  if (payload.action === "edited") {
    const before = payload.changes?.body?.from;
    if (typeof before !== "string" || containsMention(before, settings.mention)) {
      return { run: false, reason: "edit did not add the mention" };
    }
    triggerKey = `issue_comment.edited:${comment.id}:${comment.updated_at}`;
  }
  const author =
    comment.user.login.toLowerCase() === payload.sender.login.toLowerCase() ? undefined : comment.user.login;
  return requestFrom(payload, {
    kind: "comment",
    triggerKey,
    number: issue.number,
    isPullRequest: Boolean(issue.pull_request),
    reactTo: { type: "issue_comment", id: comment.id },
    commentUrl: comment.html_url,
    request: requestText(comment.body, settings.mention),
    title: issue.title,
    body: issue.body,
    triggeredAt: payload.action === "edited" ? comment.updated_at : comment.created_at,
    labels: labelNames(issue),
    ...(author ? { author } : {}),
  });
}
