import { Webhooks } from "@octokit/webhooks";

/**
 * Checks `X-Hub-Signature-256` over the exact bytes GitHub sent, with
 * @octokit/webhooks (HMAC-SHA256, compared in constant time).
 */
export async function hasValidSignature(secret: string, rawBody: string, signature: string | undefined): Promise<boolean> {
  if (!signature || !signature.startsWith("sha256=")) return false;
  try {
    return await new Webhooks({ secret }).verify(rawBody, signature);
  } catch {
    return false;
  }
}
