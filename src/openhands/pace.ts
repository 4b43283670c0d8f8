/**
 * OpenHands Cloud counts every request authenticated as a user against
 * "10/second; 100/minute" (enterprise/server/auth/saas_user_auth.py, a fixed
 * window per user id in Redis: enterprise/server/rate_limit.py). One invocation
 * keeps itself under that: at most `perSecond` requests in any second, and a
 * 429 from the limiter that asks for a short wait is waited out here, in this
 * invocation, instead of deferring the work to the cron a minute later.
 *
 * One pacer per invocation (services.ts), never in module scope: workerd
 * cancels a request that waits on a timer another request made. Concurrent
 * invocations cannot see each other, so the waits carry random jitter to
 * spread them over the next window.
 */
export interface PaceOptions {
  /** Requests allowed in any rolling second (the service allows 10; 8 leaves room for a neighbour). */
  perSecond: number;
  /** The longest server-asked wait worth sitting through; longer ones go back to the caller. */
  maxWaitMs: number;
  /** How long one request may keep retrying 429s, counted from its first try. */
  retryForMs: number;
  /** Upper bound of the random delay added to each wait. */
  jitterMs: number;
  /** Whether one more request fits this invocation's subrequest budget. */
  mayRetry: () => boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const WINDOW_MS = 1000;

export class Pacer {
  private readonly sent: number[] = [];
  /** After a 429 nobody in this invocation sends before the window the service named is over. */
  private blockedUntil = 0;
  readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: PaceOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /** Resolves when one more request may go out, and counts it. */
  async slot(): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.sent.length > 0 && this.sent[0]! <= now - WINDOW_MS) this.sent.shift();
      const wait = Math.max(
        this.blockedUntil - now,
        this.sent.length < this.options.perSecond ? 0 : this.sent[0]! + WINDOW_MS - now,
      );
      if (wait <= 0) {
        this.sent.push(now);
        return;
      }
      await this.sleep(wait);
    }
  }

  /**
   * Whether a request the rate limiter refused is sent again here, once the
   * window the service named is over, plus jitter (the next `slot()` waits for
   * it). Not for a quota or any other 429, a long wait, retries past
   * `retryForMs`, or when the budget has no request left.
   */
  waitsOut(response: Response, body: unknown, firstTriedAt: number): boolean {
    if (response.status !== 429 || !isRateLimiterAnswer(body)) return false;
    const now = this.now();
    const ends = windowEndsIn(response, now);
    if (ends > this.options.maxWaitMs) return false;
    const wait = ends + Math.floor(this.random() * this.options.jitterMs);
    if (now + wait - firstTriedAt > this.options.retryForMs || !this.options.mayRetry()) return false;
    this.blockedUntil = Math.max(this.blockedUntil, now + wait);
    return true;
  }
}

/** rate_limit.py `_rate_limit_exceeded_handler`: `{"error": "Rate limit exceeded: 10 per 1 second"}`; quotas answer `detail`. */
function isRateLimiterAnswer(body: unknown): boolean {
  return (
    typeof body === "object" &&
    body !== null &&
    typeof (body as { error?: unknown }).error === "string" &&
    (body as { error: string }).error.startsWith("Rate limit exceeded")
  );
}

/**
 * When the window that refused ends. The service floors both figures
 * (`Retry-After: int(reset - now)`, `X-RateLimit-Reset: int(reset)`), so the
 * end is up to a second after each: the earlier of the two upper bounds.
 */
function windowEndsIn(response: Response, now: number): number {
  const bounds: number[] = [];
  const retryAfter = response.headers.get("retry-after")?.trim();
  if (retryAfter && /^\d+$/.test(retryAfter)) bounds.push((Number(retryAfter) + 1) * 1000);
  const reset = response.headers.get("x-ratelimit-reset")?.trim();
  if (reset && /^\d+$/.test(reset)) bounds.push((Number(reset) + 1) * 1000 - now);
  return bounds.length > 0 ? Math.max(0, Math.min(...bounds)) : WINDOW_MS;
}
