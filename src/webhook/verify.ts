import { Webhooks } from "@octokit/webhooks";

/**
 * One `Webhooks` per secret per isolate: a plain object, built once, never a
 * promise another request could be left waiting on.
 *
 * In the Worker, `@octokit/webhooks-methods` resolves to its Node build (the
 * `alias` in wrangler.toml, vitest.config.mts and bench/worker.ts): with
 * `nodejs_compat`, `node:crypto`'s HMAC and `timingSafeEqual` are native and
 * synchronous, where the Web build imports a CryptoKey on every call.
 */
let cached: { secret: string; webhooks: Webhooks } | undefined;

/**
 * Checks `X-Hub-Signature-256` over the exact bytes GitHub sent, with
 * @octokit/webhooks (HMAC-SHA256, compared in constant time).
 */
export async function hasValidSignature(
  secret: string,
  rawBody: string,
  signature: string | undefined,
): Promise<boolean> {
  if (!signature?.startsWith("sha256=") || rawBody.length === 0) return false;
  if (cached?.secret !== secret) cached = { secret, webhooks: new Webhooks({ secret }) };
  try {
    return await cached.webhooks.verify(rawBody, signature);
  } catch {
    return false;
  }
}
