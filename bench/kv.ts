/**
 * An in-memory KVNamespace for the benchmark that counts every operation, so the
 * KV figures in BENCHMARKS.md come from the binding itself, not from a formula.
 * Follows KV's documented behaviour where the Worker can tell: values are strings,
 * get(key, "json") parses, list() is sorted by name, 1,000 keys a page with a cursor,
 * metadata comes back with list(), and expired keys are gone.
 */
export interface KvCounts {
  reads: number;
  writes: number;
  deletes: number;
  lists: number;
}

interface Entry {
  value: string;
  metadata?: unknown;
  expiresMs?: number;
}

export class CountingKV {
  readonly data = new Map<string, Entry>();
  counts: KvCounts = { reads: 0, writes: 0, deletes: 0, lists: 0 };

  resetCounts(): KvCounts {
    const before = this.counts;
    this.counts = { reads: 0, writes: 0, deletes: 0, lists: 0 };
    return before;
  }

  /** A copy of the stored entries, to put back with `restore` (not counted). */
  snapshot(): Map<string, Entry> {
    return new Map([...this.data].map(([k, v]) => [k, { ...v }]));
  }

  restore(saved: Map<string, Entry>): void {
    this.data.clear();
    for (const [k, v] of saved) this.data.set(k, { ...v });
  }

  private live(key: string): Entry | undefined {
    const entry = this.data.get(key);
    if (entry?.expiresMs !== undefined && entry.expiresMs <= Date.now()) {
      this.data.delete(key);
      return undefined;
    }
    return entry;
  }

  private decode(value: string, type: unknown): unknown {
    const kind = typeof type === "string" ? type : ((type as { type?: string } | undefined)?.type ?? "text");
    if (kind === "json") return JSON.parse(value);
    if (kind === "arrayBuffer") return new TextEncoder().encode(value).buffer;
    if (kind === "stream") return new Response(value).body;
    return value;
  }

  async get(key: string, type?: unknown): Promise<unknown> {
    this.counts.reads++;
    const entry = this.live(key);
    return entry ? this.decode(entry.value, type) : null;
  }

  async getWithMetadata(
    key: string,
    type?: unknown,
  ): Promise<{ value: unknown; metadata: unknown; cacheStatus: null }> {
    this.counts.reads++;
    const entry = this.live(key);
    return {
      value: entry ? this.decode(entry.value, type) : null,
      metadata: entry?.metadata ?? null,
      cacheStatus: null,
    };
  }

  async put(
    key: string,
    value: string | ArrayBuffer | ArrayBufferView,
    options: { metadata?: unknown; expirationTtl?: number; expiration?: number } = {},
  ): Promise<void> {
    this.counts.writes++;
    const text = typeof value === "string" ? value : new TextDecoder().decode(value as ArrayBuffer);
    const expiresMs =
      options.expiration !== undefined
        ? options.expiration * 1000
        : options.expirationTtl !== undefined
          ? Date.now() + options.expirationTtl * 1000
          : undefined;
    this.data.set(key, {
      value: text,
      metadata: options.metadata === undefined ? undefined : structuredClone(options.metadata),
      expiresMs,
    });
  }

  async delete(key: string): Promise<void> {
    this.counts.deletes++;
    this.data.delete(key);
  }

  async list(options: { prefix?: string | null; cursor?: string | null; limit?: number } = {}) {
    this.counts.lists++;
    const prefix = options.prefix ?? "";
    const limit = Math.min(options.limit ?? 1000, 1000);
    const names = [...this.data.keys()].filter((k) => k.startsWith(prefix) && this.live(k)).sort();
    const start = options.cursor ? Number(options.cursor) : 0;
    const page = names.slice(start, start + limit);
    const keys = page.map((name) => {
      const entry = this.data.get(name)!;
      return {
        name,
        ...(entry.expiresMs !== undefined ? { expiration: Math.floor(entry.expiresMs / 1000) } : {}),
        ...(entry.metadata !== undefined ? { metadata: structuredClone(entry.metadata) } : {}),
      };
    });
    const complete = start + limit >= names.length;
    return complete
      ? { keys, list_complete: true as const, cacheStatus: null }
      : { keys, list_complete: false as const, cursor: String(start + limit), cacheStatus: null };
  }
}
