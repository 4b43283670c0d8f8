import examples from "@octokit/webhooks-examples";
import { describe, expect, it } from "vitest";
import { DEFAULT_REPO_CONFIG } from "../src/repo-config/parse";
import { decideEvent } from "../src/trigger/decide-event";
import { DEPLOYMENT } from "./support/fixtures";
import { effectfulGitHubCalls, examplePayloads, issueCommentPayload, kvWithoutConfigCache } from "./support/harness";
import { startWorld } from "./support/world";

type Example = { name: string; examples: Record<string, unknown>[] };

/** Captures the Worker's error-level log lines, where an escaped exception would show. */
async function capturingErrors<T>(run: () => Promise<T>): Promise<{ result: T; errors: string[] }> {
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args.map(String).join(" "));
  try {
    return { result: await run(), errors };
  } finally {
    console.error = original;
  }
}

describe("every GitHub example payload, signed", () => {
  const all = (examples as unknown as Example[]).flatMap((entry) =>
    entry.examples.map((payload) => ({ event: entry.name, payload })),
  );

  it(`answers all ${all.length} without a 5xx and without side effects`, async () => {
    const fakes = startWorld();
    const statuses = new Map<number, number>();
    const { errors } = await capturingErrors(async () => {
      for (const { event, payload } of all) {
        const response = await fakes.deliver(event, payload);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status, `${event}.${String(payload.action)}`).toBeLessThan(500);
      }
    });
    // 200 for what is decided at once; 202 for a candidate recorded before its repository's config was read.
    expect([...statuses.keys()].sort()).toEqual([200, 202]);
    expect(errors).toEqual([]);
    // Candidates (a label, an "@" in a body) cost a read of the repository config, nothing more.
    expect(effectfulGitHubCalls(fakes.github)).toEqual([]);
    expect(fakes.openhands.requests).toEqual([]);
    expect(await kvWithoutConfigCache(fakes.env)).toEqual([]);
  });
});

/** A small deterministic PRNG, so a failing case can be replayed. */
function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function paths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const children = Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => paths(v, [...prefix, k]));
  return prefix.length ? [prefix, ...children] : children;
}

const WEIRD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1e308,
  "",
  "x".repeat(1_000_000),
  "@openhands-app ".repeat(10_000),
  [],
  [1, 2, 3],
  {},
  true,
  "\u0000\u202e\ufeff",
  { toString: "no" },
  "__proto__",
];

function mutate(payload: Record<string, any>, random: () => number): string {
  const all = paths(payload);
  const path = all[Math.floor(random() * all.length)]!;
  let parent: any = payload;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const key = path.at(-1)!;
  if (random() < 0.3) {
    delete parent[key];
    return `delete ${path.join(".")}`;
  }
  const value = WEIRD_VALUES[Math.floor(random() * WEIRD_VALUES.length)];
  parent[key] = value;
  return `${path.join(".")} = ${JSON.stringify(value)?.slice(0, 40)}`;
}

describe("mutated triggering payloads", () => {
  const CASES = 300;
  it(`${CASES} random mutations get a clear 4xx or a safe answer, never an exception`, {
    timeout: 600_000,
  }, async () => {
    const fakes = startWorld({ role: "read" }); // stop after the permission check: the point is parsing
    const random = mulberry32(20261125);
    const outcomes = new Map<number, number>();
    const { errors } = await capturingErrors(async () => {
      for (let i = 0; i < CASES; i++) {
        const payload = issueCommentPayload("@openhands-app please fix");
        payload.comment.id = 7_000_000 + i;
        const mutations = [mutate(payload, random), ...(random() < 0.5 ? [mutate(payload, random)] : [])];
        const response = await fakes.deliver("issue_comment", payload);
        outcomes.set(response.status, (outcomes.get(response.status) ?? 0) + 1);
        expect([200, 202, 400], mutations.join("; ")).toContain(response.status);
      }
    });
    // An exception escaping a handler shows as an error-level log line.
    expect(errors.filter((line) => /webhook\.failed|http\.unhandled/.test(line) && !/"status":\d/.test(line))).toEqual(
      [],
    );
    console.log(`[figures] fuzz: ${CASES} mutated payloads → ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });

  it("a body that is valid JSON but not an object is ignored", async () => {
    const fakes = startWorld();
    for (const raw of ["null", "[]", "42", '"@openhands-app"', "true"]) {
      const response = await fakes.deliver("issue_comment", undefined, { rawBody: raw });
      expect(response.status).toBe(200);
    }
    expect(fakes.github.requests).toEqual([]);
  });
});

describe("what a request is read from beyond its text, malformed", () => {
  type Change = (p: Record<string, any>) => void;
  // An object whose string form throws: what parsing or printing a timestamp or line would meet.
  const unprintable = { toString: "no" };
  const ask: Record<string, Change> = {
    "issue_comment.created": (p) => (p.comment.body = "@openhands-app fix it"),
    "issue_comment.edited": (p) => {
      p.comment.body = "@openhands-app fix it";
      p.changes = { body: { from: "fix it" } };
    },
    "issues.opened": (p) => (p.issue.body = "@openhands-app fix it"),
    "issues.labeled": (p) => (p.label = { ...p.label, name: "openhands-app" }),
    "pull_request.opened": (p) => (p.pull_request.body = "@openhands-app fix it"),
    "pull_request_review.submitted": (p) => (p.review.body = "@openhands-app fix it"),
    "pull_request_review_comment.created": (p) => (p.comment.body = "@openhands-app fix it"),
  };
  const cases: [string, string, Change][] = [
    ["issue_comment.created", "an unprintable comment.created_at", (p) => (p.comment.created_at = unprintable)],
    ["issue_comment.edited", "an unprintable comment.updated_at", (p) => (p.comment.updated_at = unprintable)],
    ["issues.labeled", "an unprintable issue.updated_at", (p) => (p.issue.updated_at = unprintable)],
    ["pull_request.opened", "an unprintable pull_request.created_at", (p) => (p.pull_request.created_at = unprintable)],
    [
      "pull_request_review.submitted",
      "an unprintable review.submitted_at",
      (p) => (p.review.submitted_at = unprintable),
    ],
    ["pull_request_review_comment.created", "an unprintable comment.line", (p) => (p.comment.line = unprintable)],
    ["issues.opened", "pull_request beside the issue", (p) => (p.pull_request = null)],
  ];
  it.each(cases)("%s with %s is ignored as malformed, not thrown on", (name, _, mangle) => {
    const [event, action] = name.split(".") as [string, string];
    const payload = examplePayloads(event).find((p) => p.action === action)!;
    payload.installation = { id: 1 };
    ask[name]!(payload);
    expect(decideEvent(event, payload, { config: DEFAULT_REPO_CONFIG }, DEPLOYMENT).run).toBe(true);
    mangle(payload);
    expect(decideEvent(event, payload, { config: DEFAULT_REPO_CONFIG }, DEPLOYMENT)).toEqual({
      run: false,
      reason: `payload of ${name} is missing fields`,
    });
  });
});
