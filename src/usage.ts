/**
 * What one invocation asks of Workers KV and of its two upstreams, counted where
 * it happens: `createServices` wraps the KV binding and each upstream's `fetch`
 * once, so every call made through the services is seen, whichever module makes
 * it. Counts are plain numbers on the invocation's own object (no shared state).
 *
 * KV operations are counted per call, as Cloudflare bills them: a `get` that
 * finds nothing is still a read, each page of a `list` is one list.
 */
export interface Usage {
  kvReads: number;
  kvWrites: number;
  kvDeletes: number;
  kvLists: number;
  githubRequests: number;
  openhandsRequests: number;
}

export const USAGE_FIELDS = [
  "kvReads",
  "kvWrites",
  "kvDeletes",
  "kvLists",
  "githubRequests",
  "openhandsRequests",
] as const;

/** Workers KV on the Free plan, per UTC day (deletes have their own 1,000, apart from writes). */
export const FREE_PLAN_DAILY_LIMITS = { kvReads: 100_000, kvWrites: 1_000, kvDeletes: 1_000, kvLists: 1_000 } as const;

export function emptyUsage(): Usage {
  return { kvReads: 0, kvWrites: 0, kvDeletes: 0, kvLists: 0, githubRequests: 0, openhandsRequests: 0 };
}

export function addUsage<T extends Usage>(into: T, more: Partial<Usage>): T {
  for (const field of USAGE_FIELDS) into[field] += more[field] ?? 0;
  return into;
}

const KV_OPERATION: Partial<Record<keyof KVNamespace, keyof Usage>> = {
  get: "kvReads",
  getWithMetadata: "kvReads",
  put: "kvWrites",
  delete: "kvDeletes",
  list: "kvLists",
};

export class UsageCounter {
  private counts = emptyUsage();

  /** What was counted since the last `take()`, and a fresh start. */
  take(): Usage {
    const taken = this.counts;
    this.counts = emptyUsage();
    return taken;
  }

  peek(): Readonly<Usage> {
    return this.counts;
  }

  /** The namespace, counting each call before it is made (a call that fails was still billed, or may have been). */
  kv(kv: KVNamespace): KVNamespace {
    return new Proxy(kv, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        const field = KV_OPERATION[property as keyof KVNamespace];
        return (...args: unknown[]) => {
          if (field) this.counts[field]++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }

  fetch(field: "githubRequests" | "openhandsRequests", inner: typeof fetch): typeof fetch {
    return (input, init) => {
      this.counts[field]++;
      return inner(input, init);
    };
  }
}
