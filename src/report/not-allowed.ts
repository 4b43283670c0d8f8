import { createComment, findCommentWithMarker, writtenByApp } from "../github/thread";
import { claimInIsolate, releaseClaim } from "../isolate-claims";
import { log } from "../log";
import { notAllowedMarker } from "../own-marker";
import type { Services } from "../services";
import { type TriggerRequest, threadOf } from "../trigger/request";
import { notAllowedReply } from "./messages";

const DAY_MS = 24 * 3600_000;

/**
 * Tells someone without write access why nothing happens: once per person and
 * thread a day. Someone mentioning the App again and again must not make it
 * post again and again (the App's comments, GitHub's secondary limits).
 */
export async function replyNotAllowed(
  services: Pick<Services, "github" | "config" | "now">,
  request: TriggerRequest,
): Promise<boolean> {
  const github = services.github(request.installationId);
  const thread = threadOf(request);
  // Five quick mentions are five requests at once: only one of them in this isolate looks and replies.
  const claim = `not-allowed:${request.repository.toLowerCase()}#${request.number}:${request.requester.toLowerCase()}`;
  if (!claimInIsolate(claim, DAY_MS)) {
    log("info", "request.not_allowed_already_told", { sender: request.requester });
    return false;
  }
  try {
    const since = services.now().getTime() - DAY_MS;
    const isOwn = writtenByApp({ id: Number(services.config.appId) });
    if (await findCommentWithMarker(github, thread, notAllowedMarker(request.requester), isOwn, since)) {
      log("info", "request.not_allowed_already_told", { sender: request.requester });
      return false;
    }
    await createComment(github, thread, notAllowedReply(request.requester, request.author));
    return true;
  } catch (error) {
    releaseClaim(claim);
    throw error;
  }
}
