import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { Webhooks } from "@octokit/webhooks";
import type { WebhookDefinition } from "@octokit/webhooks-examples";

/**
 * The webhook GitHub would send when a maintainer writes an @openhands-app comment:
 * GitHub's own `issue_comment.created` example, adapted the way
 * `issueCommentPayload` in test/support/harness.ts adapts it (that module needs the
 * Workers test runtime, so it cannot be imported here).
 */
export const COMMENT = "@openhands-app the date parser fails on leap years, please fix it and add a test";

// The package is plain JSON; require() loads it without import attributes.
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as WebhookDefinition[];

export function issueCommentPayload(body: string): Record<string, any> {
  const entry = examples.find((e) => e.name === "issue_comment") as WebhookDefinition<"issue_comment"> | undefined;
  const found = entry?.examples.find((p) => p.action === "created" && p.installation);
  if (!found) throw new Error("@octokit/webhooks-examples has no issue_comment.created example with an installation");
  const payload = structuredClone(found) as Record<string, any>;
  payload.comment.body = body;
  // GitHub sends the installation to Apps; the example came from a repository hook.
  payload.installation = { id: 2311213, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMjMxMTIxMw==" };
  // The comment is written now: the Worker refuses requests made more than a week before they arrive.
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  payload.comment.created_at = payload.comment.updated_at = now;
  return payload;
}

export interface SignedWebhook {
  delivery: string;
  headers: Record<string, string>;
  body: string;
}

/** Signed as GitHub signs it: HMAC-SHA256 of the exact body bytes, in X-Hub-Signature-256. */
export async function signedWebhook(event: string, payload: unknown, secret: string): Promise<SignedWebhook> {
  const body = JSON.stringify(payload);
  const delivery = randomUUID();
  return {
    delivery,
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/demo",
      "x-github-event": event,
      "x-github-delivery": delivery,
      "x-github-hook-installation-target-type": "integration",
      "x-hub-signature-256": await new Webhooks({ secret }).sign(body),
    },
  };
}
