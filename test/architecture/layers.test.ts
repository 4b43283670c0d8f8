import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The flow, top to bottom: each module may import its own layer and the ones
 * below, never one above. A step that needs something from higher up is in the
 * wrong place (the poller reaching into a webhook step, a move reaching into
 * the poller), and the arrows pointing one way are what let each layer be read
 * and tested on its own. Paths are under src/; a folder stands for its files.
 */
const LAYERS: readonly (readonly string[])[] = [
  // in: the Worker's routes and its cron entry, the operator's pages
  [
    "index.ts",
    "webhook/",
    "setup/route.ts",
    "setup/pages.ts",
    "setup/manifest.ts",
    "setup/state.ts",
    "setup/session.ts",
    "setup/lock.ts",
    "ops/",
  ],
  // the cron: read statuses, decide, plan, act
  ["poller/"],
  // the steps a request takes: verify and start; the commands
  ["start/", "commands/"],
  // each way a task moves: transition, comment, save
  ["lifecycle/"],
  // out: what is said on GitHub, and how it is posted
  ["report/"],
  // the outside world as one invocation sees it
  ["services.ts"],
  // pure domain logic and the clients, each reading only what is below it:
  // does this event ask for work (with the repository's settings, and what the task store keeps)
  ["trigger/"],
  ["repo-config/"],
  // the task record and its store; the prompt's parts it keeps
  ["tasks/"],
  ["prompt/"],
  // the two clients: GitHub (which breaks OpenHands' App's mention in what it posts), then OpenHands
  ["github/"],
  ["openhands/"],
  ["config.ts", "usage.ts", "budget.ts"],
  // what a request is, and the words that ask for one: the types every layer above shares
  ["trigger/request.ts", "trigger/words.ts"],
  // leaves
  [
    "log.ts",
    "escape-regexp.ts",
    "http-status.ts",
    "is-object.ts",
    "isolate-claims.ts",
    "own-marker.ts",
    "learnt-fact.ts",
    "markdown/",
    "setup/credentials.ts",
    "setup/sealing.ts",
    "github/private-key.ts",
  ],
];

const SRC = join(import.meta.dirname, "../../src");

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [relative(SRC, join(dir, entry.name))]
        : [],
  );
}

/** Rank 0 is the top; a file listed by name wins over its folder. */
function layerOf(file: string): number {
  const exact = LAYERS.findIndex((layer) => layer.includes(file));
  if (exact !== -1) return exact;
  return LAYERS.findIndex((layer) => layer.some((entry) => entry.endsWith("/") && file.startsWith(entry)));
}

/** The entry of LAYERS a file belongs to: its own name when listed, else its folder. */
function entryOf(file: string): string {
  return LAYERS.flat().find((entry) => entry === file) ?? LAYERS.flat().find((entry) => file.startsWith(entry)) ?? file;
}

function localImports(file: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8");
  return [...text.matchAll(/(?:from|import) "(\.{1,2}\/[^"]+)"/g)].map((m) =>
    normalize(join(dirname(file), `${m[1]}.ts`)),
  );
}

describe("src/ layers", () => {
  const files = sourceFiles();

  it("places every module in a layer", () => {
    expect(files.filter((file) => layerOf(file) === -1)).toEqual([]);
  });

  it("has no import pointing up the flow", () => {
    const upward = files.flatMap((file) =>
      localImports(file)
        .filter((target) => layerOf(target) < layerOf(file))
        .map((target) => `${file} -> ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it("has no import cycle between modules", () => {
    const graph = new Map(files.map((file) => [file, localImports(file)]));
    const state = new Map<string, "visiting" | "done">();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "visiting");
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, "done");
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it("has no import cycle between the entries of the layers: within a layer too, one is read before the other", () => {
    const edges = new Map<string, Set<string>>();
    for (const file of files) {
      for (const target of localImports(file)) {
        const [from, to] = [entryOf(file), entryOf(target)];
        if (from === to) continue;
        edges.set(from, (edges.get(from) ?? new Set<string>()).add(to));
      }
    }
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
      [...(edges.get(from) ?? [])].some((next) => {
        if (next === to) return true;
        if (seen.has(next)) return false;
        seen.add(next);
        return reaches(next, to, seen);
      });
    const cycles = [...edges].flatMap(([from, targets]) =>
      [...targets].filter((to) => reaches(to, from)).map((to) => `${from} <-> ${to}`),
    );
    expect(cycles).toEqual([]);
  });

  it("says things on GitHub only through lifecycle/: the steps above take nothing but types from report/", () => {
    // A step that posted on its own would say something the task's record does not know about, and
    // the request's path would come back down to report/ twice (decide, record, act, say: each once).
    const sayers = files.flatMap((file) => {
      if (file.startsWith("lifecycle/") || file.startsWith("report/")) return [];
      const text = readFileSync(join(SRC, file), "utf8");
      return [...text.matchAll(/^import (?!type )[^;]*? from "((?:\.{1,2}\/)+report\/[^"]+)";/gms)].map(
        (m) => `${file} -> ${m[1]}`,
      );
    });
    expect(sayers).toEqual([]);
  });

  it("moves a task only in lifecycle/: no other module saves, transitions or edits a tracking comment", () => {
    const movers = files.filter((file) =>
      /\bstore\.save\(|\btransition\(|\bpublishTrackingComment\(/.test(readFileSync(join(SRC, file), "utf8")),
    );
    // tasks/task.ts defines transition; report/publish.ts defines publishTrackingComment.
    expect(movers.filter((file) => !file.startsWith("lifecycle/"))).toEqual(["report/publish.ts", "tasks/task.ts"]);
  });
});
