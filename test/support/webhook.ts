import { Webhooks } from "@octokit/webhooks";
import examples from "@octokit/webhooks-examples";

/**
 * Webhook deliveries as GitHub sends them, for the tests (in workerd), the demo and the bench
 * (in Node): nothing here may need either runtime, so the secret is always passed in.
 */

type Example = { name: string; examples: Record<string, unknown>[] };

/** GitHub's own example payloads, deep-copied so a caller can adapt one safely. */
export function examplePayloads(event: string): Record<string, any>[] {
  const entry = (examples as unknown as Example[]).find((e) => e.name === event);
  if (!entry) throw new Error(`no example payloads for ${event}`);
  return entry.examples.map((e) => structuredClone(e));
}

let nextInstallationId = 2311213;

/**
 * The `issue_comment.created` example, as if a maintainer wrote `body`. The
 * installation is added because GitHub sends it to Apps (the example came from a repo hook).
 */
export function issueCommentPayload(
  body: string,
  options: {
    pullRequest?: boolean;
    sender?: Record<string, unknown>;
    installationId?: number;
    commentId?: number;
  } = {},
) {
  const payload = examplePayloads("issue_comment").find((p) => p.action === "created" && p.installation)!;
  payload.comment.body = body;
  // The comment's id names the request: the same id twice is one request delivered again.
  if (options.commentId !== undefined) payload.comment.id = options.commentId;
  // A fresh installation per payload by default: Octokit spaces writes per installation,
  // and a test need not wait for the previous test's writes.
  payload.installation = {
    id: options.installationId ?? nextInstallationId++,
    node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMjMxMTIxMw==",
  };
  if (options.sender) {
    payload.sender = { ...payload.sender, ...options.sender };
    payload.comment.user = { ...payload.comment.user, ...options.sender };
  }
  if (options.pullRequest) {
    payload.issue.pull_request = {
      url: `https://api.github.com/repos/${payload.repository.full_name}/pulls/${payload.issue.number}`,
      html_url: `https://github.com/${payload.repository.full_name}/pull/${payload.issue.number}`,
      diff_url: `https://github.com/${payload.repository.full_name}/pull/${payload.issue.number}.diff`,
      patch_url: `https://github.com/${payload.repository.full_name}/pull/${payload.issue.number}.patch`,
      merged_at: null,
    };
  }
  return payload;
}

/** A comment by `sender` on `owner/repo`, where the sender is the repository's admin. */
export function commentOn(owner: string, repo: string, sender: string, body = "@openhands-app fix the crash") {
  const payload = issueCommentPayload(body);
  payload.repository = {
    ...payload.repository,
    name: repo,
    full_name: `${owner}/${repo}`,
    owner: { ...payload.repository.owner, login: owner },
  };
  payload.sender = { ...payload.sender, login: sender };
  payload.comment.user = { ...payload.comment.user, login: sender };
  payload.comment.author_association = "OWNER";
  return payload;
}

/**
 * GitHub delivers an event seconds after it happens; its examples are years old.
 * The times the App judges a request by (created, edited, labelled, submitted)
 * are set to now, unless the caller is about an old one.
 */
export function happenedNow<T>(payload: T): T {
  if (typeof payload !== "object" || payload === null) return payload;
  const copy = structuredClone(payload) as Record<string, unknown>;
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  for (const key of ["comment", "issue", "pull_request", "review"]) {
    const item = copy[key] as Record<string, unknown> | undefined;
    if (typeof item !== "object" || item === null) continue;
    for (const field of ["created_at", "updated_at", "submitted_at"])
      if (typeof item[field] === "string") item[field] = now;
  }
  return copy as T;
}

export interface DeliveryOptions {
  secret: string;
  /** The header as sent; `null` sends none. Without it the body is signed with `secret`. */
  signature?: string | null;
  /** The exact bytes to send, instead of the payload as JSON. */
  rawBody?: string;
  delivery?: string;
  /** Sends the payload's times as they are, not moved to now. */
  keepTimes?: boolean;
  url?: string;
  /** GitHub sends it; a Worker without it counts the body as it streams, which the bench must not time. */
  contentLength?: boolean;
}

let deliveries = 0;

/** A webhook request signed as GitHub signs it: HMAC-SHA256 of the exact body bytes, in X-Hub-Signature-256. */
export async function signedDelivery(event: string, payload: unknown, options: DeliveryOptions): Promise<Request> {
  const rawBody = options.rawBody ?? JSON.stringify(options.keepTimes ? payload : happenedNow(payload));
  const signature =
    options.signature === undefined ? await new Webhooks({ secret: options.secret }).sign(rawBody) : options.signature;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/2f3e1a4",
    "x-github-event": event,
    "x-github-delivery": options.delivery ?? `72d3162e-cc78-11e3-81ab-${String(++deliveries).padStart(12, "0")}`,
    "x-github-hook-id": "292430182",
    "x-github-hook-installation-target-type": "integration",
  };
  if (options.contentLength) headers["content-length"] = String(new TextEncoder().encode(rawBody).byteLength);
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  return new Request(options.url ?? "https://worker.example/api/github/webhooks", {
    method: "POST",
    headers,
    body: rawBody,
  });
}
