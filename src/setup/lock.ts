import { claimInIsolate, releaseClaim } from "../isolate-claims";

/**
 * One conversion of a manifest code at a time, so that two callbacks (a double
 * click, the link opened in two tabs) cannot both turn a code into credentials
 * and store one over the other. In this isolate a synchronous claim decides;
 * across isolates a KV marker, written before the conversion and read back.
 *
 * KV has no compare-and-set: two isolates (in two Cloudflare locations, or
 * within KV's propagation delay) can each write and read back their own marker.
 * Then both convert. The same code fails at GitHub the second time (codes are
 * single-use), and two codes (two Apps) meet the check for stored credentials
 * made right before storing, which names the App left unused; only two stores
 * landing within one KV round trip of each other, in two locations, are not
 * caught, and the later one wins.
 */
const CLAIM = "setup:conversion";
const MARKER = "setup:converting";
/** KV's shortest expiry is 60 s; a conversion takes one GitHub request. */
const HOLD_MS = 120_000;

/** A release function when this request may convert; undefined when another one is converting. */
export async function takeConversionLock(kv: KVNamespace): Promise<(() => Promise<void>) | undefined> {
  if (!claimInIsolate(CLAIM, HOLD_MS)) return undefined;
  const mine = crypto.randomUUID();
  try {
    if ((await kv.get(MARKER)) === null) {
      await kv.put(MARKER, mine, { expirationTtl: HOLD_MS / 1000 });
      if ((await kv.get(MARKER)) === mine) {
        return async () => {
          releaseClaim(CLAIM);
          if ((await kv.get(MARKER).catch(() => null)) === mine) await kv.delete(MARKER).catch(() => undefined);
        };
      }
    }
  } catch (error) {
    releaseClaim(CLAIM);
    throw error;
  }
  releaseClaim(CLAIM);
  return undefined;
}
