/**
 * A fact about the deployment learnt from an upstream (the App's owner, the
 * agent's GitHub account): asked at most once a day, kept in KV for every
 * isolate, and in this isolate's memory as a plain value for ten minutes.
 * Nothing here is a pending request: two requests that both miss may both ask.
 */
const MEMORY_MS = 10 * 60_000;
const REFRESH_MS = 24 * 3600_000;

interface Stored {
  value: string;
  at: number;
}

export class LearntFact {
  private remembered: { stored: Stored; until: number } | undefined;
  /** Until when a failed ask is not repeated in this isolate (see `quietAfterFailureMs`). */
  private failedUntil = 0;

  /**
   * `quietAfterFailureMs`: after the upstream failed to answer, `learn` fails
   * at once for this long instead of asking again, for a fact that webhooks
   * ask for, so that a burst of them cannot each wait on a failing upstream.
   */
  constructor(
    private readonly key: string,
    private readonly quietAfterFailureMs = 0,
  ) {}

  /** Test hook: a cold isolate. */
  forget(): void {
    this.remembered = undefined;
    this.failedUntil = 0;
  }

  /** What is known without asking the upstream. */
  async known(kv: KVNamespace): Promise<string | undefined> {
    return (await this.stored(kv))?.value;
  }

  /** Records the fact when it is learnt some other way (e.g. GitHub just said so). */
  async set(kv: KVNamespace, value: string, now = Date.now()): Promise<void> {
    const fresh = { value, at: now };
    await kv.put(this.key, JSON.stringify(fresh));
    this.remembered = { stored: fresh, until: Date.now() + MEMORY_MS };
  }

  /** The fact, asking `ask` when it is unknown or a day old; `now` is the caller's clock (the cron's may run ahead). */
  async learn(kv: KVNamespace, ask: () => Promise<string>, now = Date.now()): Promise<string> {
    const stored = await this.stored(kv);
    if (stored && now - stored.at < REFRESH_MS) return stored.value;
    if (now < this.failedUntil) throw new LearntFactUnavailableError(this.key);
    let value: string;
    try {
      value = await ask();
    } catch (error) {
      this.failedUntil = now + this.quietAfterFailureMs;
      throw error;
    }
    const fresh = { value, at: now };
    await kv.put(this.key, JSON.stringify(fresh));
    this.remembered = { stored: fresh, until: Date.now() + MEMORY_MS };
    return fresh.value;
  }

  private async stored(kv: KVNamespace): Promise<Stored | undefined> {
    if (this.remembered && this.remembered.until > Date.now()) return this.remembered.stored;
    const stored = await kv.get<Stored>(this.key, "json").catch(() => null);
    if (!stored || typeof stored.value !== "string") return undefined;
    this.remembered = { stored, until: Date.now() + MEMORY_MS };
    return stored;
  }
}

/** `learn` did not ask: the upstream failed moments ago (`quietAfterFailureMs`). */
class LearntFactUnavailableError extends Error {
  constructor(key: string) {
    super(`${key} was not learnt moments ago; not asking again yet`);
    this.name = "LearntFactUnavailableError";
  }
}
