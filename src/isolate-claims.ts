/**
 * One isolate serves many requests at once, and two overlapping ones (a
 * redelivery racing the first delivery, five quick mentions by one person) can
 * both read "not there yet" from KV or GitHub before either writes. A claim is
 * taken synchronously, before any await, so that only one of them goes on in
 * this isolate. Plain values with an expiry: no promise or timer is shared
 * between requests. Across isolates, the KV record or GitHub comment checked
 * after the claim is what holds.
 */
const claims = new Map<string, number>();
const MAX_CLAIMS = 10_000;

/** True for the first caller with `key` until `forMs` from now; false for every other meanwhile. */
export function claimInIsolate(key: string, forMs: number, now = Date.now()): boolean {
  const until = claims.get(key);
  if (until !== undefined && until > now) return false;
  if (claims.size >= MAX_CLAIMS) {
    for (const [other, expiry] of claims) if (expiry <= now) claims.delete(other);
    if (claims.size >= MAX_CLAIMS) claims.clear();
  }
  claims.set(key, now + forMs);
  return true;
}

/** The claimed work did not happen (a write failed): a later try may claim it again. */
export function releaseClaim(key: string): void {
  claims.delete(key);
}

/** Test hook: a cold isolate. */
export function forgetClaims(): void {
  claims.clear();
}
