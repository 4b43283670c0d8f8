import type { IssueCommentCreatedEvent } from "@octokit/webhooks-types";
import { isBot } from "./actor";
import { containsMention, requestText } from "./mention";
import type { Decision } from "./request";

const OWN_MARKER = "<!-- openhands-github-app";

export function checkIssueComment(payload: IssueCommentCreatedEvent): Decision {
  const { comment, issue, repository, sender, installation } = payload;
  if (!installation?.id) return { run: false, reason: "no installation in payload" };
  if (isBot(sender) || isBot(comment.user)) return { run: false, reason: "sender is a bot" };
  if (comment.body.includes(OWN_MARKER)) return { run: false, reason: "comment written by this App" };
  if (!containsMention(comment.body)) return { run: false, reason: "no mention" };
  return {
    run: true,
    request: {
      triggerKey: `issue_comment:${comment.id}`,
      repository: repository.full_name,
      owner: repository.owner.login,
      repo: repository.name,
      number: issue.number,
      isPullRequest: Boolean(issue.pull_request),
      installationId: installation.id,
      requester: sender.login,
      commentId: comment.id,
      commentUrl: comment.html_url,
      request: requestText(comment.body),
      title: issue.title,
      body: issue.body,
    },
  };
}
