import { OWN_MARKER } from "../own-marker";
import { isDisallowedBot } from "./actor";
import { commonRejection, labelNames, requestFrom } from "./common";
import { containsMention, requestText } from "./mention";
import type { ReviewCommentCreatedEvent, ReviewSubmittedEvent } from "./payload";
import type { KindDecision, TriggerSettings } from "./request";

/** An inline comment on a diff line; the answer goes into that review thread. */
export function checkReviewComment(payload: ReviewCommentCreatedEvent, settings: TriggerSettings): KindDecision {
  const { comment, pull_request: pr } = payload;
  const rejection = commonRejection(payload, settings, comment);
  if (rejection) return { run: false, reason: rejection };
  if (isDisallowedBot(comment.user, settings.allowedBots)) return { run: false, reason: "sender is a bot" };
  if (comment.body.includes(OWN_MARKER)) return { run: false, reason: "comment written by this App" };
  if (!containsMention(comment.body, settings.mention)) return { run: false, reason: "no mention" };
  const line = comment.line ?? undefined;
  const startLine = comment.start_line ?? undefined;
  return requestFrom(payload, {
    kind: "review_comment",
    triggerKey: `pull_request_review_comment:${comment.id}`,
    number: pr.number,
    isPullRequest: true,
    reactTo: { type: "review_comment", id: comment.id },
    commentUrl: comment.html_url,
    request: requestText(comment.body, settings.mention),
    title: pr.title,
    body: pr.body,
    triggeredAt: comment.created_at,
    labels: labelNames(pr),
    reviewComment: {
      // Replies go to the thread's first comment, as GitHub threads them.
      commentId: comment.in_reply_to_id ?? comment.id,
      path: comment.path,
      ...(line !== undefined ? { line } : {}),
      ...(startLine !== undefined && startLine !== line ? { startLine } : {}),
      diffHunk: comment.diff_hunk,
    },
  });
}

/** A submitted review whose body asks; its inline comments are the context. */
export function checkReview(payload: ReviewSubmittedEvent, settings: TriggerSettings): KindDecision {
  const { review, pull_request: pr } = payload;
  const rejection = commonRejection(payload, settings, review);
  if (rejection) return { run: false, reason: rejection };
  const body = review.body ?? "";
  if (body.includes(OWN_MARKER)) return { run: false, reason: "written by this App" };
  if (!containsMention(body, settings.mention)) return { run: false, reason: "no mention" };
  return requestFrom(payload, {
    kind: "review",
    triggerKey: `pull_request_review:${review.id}`,
    number: pr.number,
    isPullRequest: true,
    reactTo: { type: "issue", id: pr.number },
    commentUrl: review.html_url,
    request: requestText(body, settings.mention),
    title: pr.title,
    body: pr.body,
    triggeredAt: review.submitted_at ?? pr.updated_at,
    labels: labelNames(pr),
  });
}
