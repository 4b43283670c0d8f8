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
  // clients and pure domain logic
  ["github/", "openhands/", "repo-config/", "tasks/", "trigger/", "prompt/", "config.ts", "usage.ts", "budget.ts"],
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

function localImports(file: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8");
  return [...text.matchAll(/from "(\.{1,2}\/[^"]+)"/g)].map((m) => normalize(join(dirname(file), `${m[1]}.ts`)));
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

  it("moves a task only in lifecycle/: no other module saves, transitions or edits a tracking comment", () => {
    const movers = files.filter((file) =>
      /\bstore\.save\(|\btransition\(|\bpublishTrackingComment\(/.test(readFileSync(join(SRC, file), "utf8")),
    );
    // tasks/task.ts defines transition; report/publish.ts defines publishTrackingComment.
    expect(movers.filter((file) => !file.startsWith("lifecycle/"))).toEqual(["report/publish.ts", "tasks/task.ts"]);
  });
});
