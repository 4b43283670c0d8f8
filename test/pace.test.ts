import { describe, expect, it } from "vitest";
import { type PaceOptions, Pacer } from "../src/openhands/pace";
import { mostInOneSecond } from "./support/harness";

/** A clock that only moves when the pacer sleeps. */
function virtualPacer(options: Partial<PaceOptions> = {}) {
  let now = 1_700_000_000_000;
  const slept: number[] = [];
  const pacer = new Pacer({
    perSecond: 8,
    maxWaitMs: 10_000,
    retryForMs: 20_000,
    jitterMs: 2_000,
    mayRetry: () => true,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    random: () => 0.5,
    ...options,
  });
  return { pacer, slept, now: () => now, advance: (ms: number) => (now += ms) };
}

/** The service's answer when its per-second window is full (enterprise/server/rate_limit.py). */
function limiterAnswer(nowMs: number, window: "second" | "minute" = "second", secondsLeft = 0.4) {
  const reset = nowMs / 1000 + secondsLeft;
  const description = window === "second" ? "10 per 1 second" : "100 per 1 minute";
  return new Response(JSON.stringify({ error: `Rate limit exceeded: ${description}` }), {
    status: 429,
    headers: {
      "X-RateLimit-Limit": description,
      "X-RateLimit-Remaining": "0",
      "X-RateLimit-Reset": String(Math.floor(reset)),
      "Retry-After": String(Math.floor(reset - nowMs / 1000)),
    },
  });
}

describe("pacing OpenHands requests within one invocation", () => {
  it("lets 8 requests out in any second and holds the rest until the window moves on", async () => {
    const { pacer, now } = virtualPacer();
    const granted: number[] = [];
    for (let i = 0; i < 20; i++) {
      await pacer.slot();
      granted.push(now());
    }
    const start = granted[0]!;
    expect(granted.map((t) => t - start)).toEqual([
      ...Array(8).fill(0),
      ...Array(8).fill(1000),
      ...Array(4).fill(2000),
    ]);
  });

  it("after a limiter 429, nobody sends before the window is over, plus jitter", async () => {
    const { pacer, now, slept } = virtualPacer();
    await pacer.slot();
    const refusedAt = now();
    expect(pacer.waitsOut(limiterAnswer(refusedAt), { error: "Rate limit exceeded: 10 per 1 second" }, refusedAt)).toBe(
      true,
    );
    await pacer.slot();
    // Retry-After "0" bounds the window's end at 1 s; the jitter is half of 2 s.
    expect(now() - refusedAt).toBe(1000 + 1000);
    expect(slept).toEqual([2000]);
  });

  it("does not sit out a quota, another 429, a long window, too long a retry or an exhausted budget", () => {
    const at = 1_700_000_000_000;
    const limiter = { error: "Rate limit exceeded: 100 per 1 minute" };
    const { pacer } = virtualPacer({ now: () => at });
    // A daily quota (429 with a detail code) waits for its reset_at: the task's own backoff.
    const quota = { detail: { code: "DAILY_LIMIT", message: "Daily conversation limit reached" } };
    expect(pacer.waitsOut(new Response(JSON.stringify(quota), { status: 429 }), quota, at)).toBe(false);
    expect(pacer.waitsOut(limiterAnswer(at, "minute", 42), limiter, at)).toBe(false);
    expect(pacer.waitsOut(new Response("{}", { status: 503 }), {}, at)).toBe(false);
    // Nineteen seconds in, a 1 s window plus 1 s of jitter is past the 20 s allowed.
    expect(pacer.waitsOut(limiterAnswer(at), limiter, at - 19_000)).toBe(false);
    const broke = virtualPacer({ now: () => at, mayRetry: () => false }).pacer;
    expect(broke.waitsOut(limiterAnswer(at), limiter, at)).toBe(false);
  });

  it("in real time: 20 requests at once go out at most 8 in any second (the one test that waits)", async () => {
    const pacer = new Pacer({ perSecond: 8, maxWaitMs: 10_000, retryForMs: 20_000, jitterMs: 0, mayRetry: () => true });
    const started = Date.now();
    const granted = await Promise.all(Array.from({ length: 20 }, () => pacer.slot().then(() => Date.now())));
    expect(mostInOneSecond(granted)).toBeLessThanOrEqual(8);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});
