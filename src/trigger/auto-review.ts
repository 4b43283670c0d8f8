import { OWN_MARKER } from "../own-marker";
import { hasNoAccess, isDisallowedBot } from "./actor";
import { commonRejection, labelNames, requestFrom } from "./common";
import type { PullRequestReviewableEvent } from "./payload";
import type { KindDecision, TriggerSettings } from "./request";

/**
 * A pull request opened or marked ready for review where the repository's config asks for a review of
 * each one (`review.on_open`), or pushed to where it asks for one of each push (`review.on_push`).
 * Nobody wrote a word, so the request stands for the pull request's author (and whoever pushed or
 * marked it ready): they must be allowed to ask, or a stranger's pull request would spend the
 * operator's credits on a review nobody with access wanted. A maintainer can still ask for one.
 */
export function checkAutoReview(payload: PullRequestReviewableEvent, settings: TriggerSettings): KindDecision {
  const review = settings.autoReview;
  const pushed = payload.action === "synchronize";
  if (pushed ? !review?.onPush : !review?.onOpen)
    return { run: false, reason: `automatic reviews are off (review.${pushed ? "on_push" : "on_open"})` };
  const pr = payload.pull_request;
  if (pr.state !== "open") return { run: false, reason: "the pull request is not open" };
  if (pr.draft && !review?.drafts) return { run: false, reason: "a draft pull request (review.drafts is off)" };
  const rejection = commonRejection(payload, settings, pr);
  if (rejection) return { run: false, reason: rejection };
  const user = pr.user;
  if (!user) return { run: false, reason: "the pull request has no author" };
  if (isDisallowedBot(user, settings.allowedBots)) return { run: false, reason: "opened by a bot" };
  if (hasNoAccess(pr.author_association)) {
    return {
      run: false,
      reason: `the pull request's author has no access to the repository (${pr.author_association})`,
    };
  }
  // The agent's own pull requests: its work is reviewed when a person asks.
  if (settings.branchPrefix && pr.head.ref.startsWith(settings.branchPrefix)) {
    return { run: false, reason: "a pull request from the agent's branch prefix" };
  }
  if (pr.body?.includes(OWN_MARKER)) return { run: false, reason: "written by this App" };
  const author = user.login;
  return requestFrom(payload, {
    kind: "automatic",
    review: { focus: "", automatic: pushed ? "on_push" : "on_open" },
    // One review per head: opened and then marked ready at the same commit is one request.
    triggerKey: `pull_request.review:${pr.id}:${pr.head.sha}`,
    number: pr.number,
    isPullRequest: true,
    reactTo: { type: "issue", id: pr.number },
    commentUrl: pr.html_url,
    request: "",
    title: pr.title,
    body: pr.body,
    triggeredAt: payload.action === "opened" ? pr.created_at : pr.updated_at,
    labels: labelNames(pr),
    ...(author.toLowerCase() === payload.sender.login.toLowerCase() ? {} : { author }),
  });
}
