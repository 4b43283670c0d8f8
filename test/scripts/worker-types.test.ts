/**
 * `npm run types` and `npm run types:check` (scripts/worker-types.ts), with the real wrangler, on a
 * small project in a temporary folder: the check passes on what `npm run types` wrote, whoever's
 * .dev.vars or shell is around, and fails once wrangler.toml or .dev.vars.example names something else.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { staleLines, TYPES_FILE, writeTypes } from "../../scripts/worker-types";

const WRANGLER_TOML = `name = "types-test"
main = "src/index.ts"
compatibility_date = "2026-04-01"
compatibility_flags = ["nodejs_compat"]

[vars]
BASE_URL = "https://example.com"

[[kv_namespaces]]
binding = "STORE"
`;

describe("npm run types, npm run types:check", () => {
  let dir: string;
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "worker-types-"));
    mkdirSync(join(dir, "src"));
    write("src/index.ts", "export default { fetch: () => new Response() };\n");
    write("wrangler.toml", WRANGLER_TOML);
    write(".dev.vars.example", "# a comment\nAPI_KEY=\nLIMIT=5\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes Env from wrangler.toml and the names in .dev.vars.example, every value a string", () => {
    writeTypes(dir, true);
    const text = readFileSync(join(dir, TYPES_FILE), "utf8");
    expect(text).toContain(
      "wrangler types --include-runtime=false --strict-vars=false --env-file .dev.vars.example` (hash:",
    );
    const env = text.slice(text.indexOf("interface Env {"), text.indexOf("}", text.indexOf("interface Env {")));
    expect(
      env
        .split("\n")
        .slice(1)
        .map((line) => line.trim())
        .filter(Boolean)
        .sort(),
    ).toEqual(["API_KEY: string;", "BASE_URL: string;", "LIMIT: string;", "STORE: KVNamespace;"]);
    expect(text).not.toContain("Begin runtime types");
  });

  it("finds the file up to date, whatever a developer's .dev.vars or shell holds, and leaves no scratch file", () => {
    write(".dev.vars", "MINE_ONLY=1\n");
    const before = process.env.CLOUDFLARE_INCLUDE_PROCESS_ENV;
    process.env.CLOUDFLARE_INCLUDE_PROCESS_ENV = "true";
    try {
      expect(staleLines(dir)).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.CLOUDFLARE_INCLUDE_PROCESS_ENV;
      else process.env.CLOUDFLARE_INCLUDE_PROCESS_ENV = before;
      rmSync(join(dir, ".dev.vars"));
    }
    expect(existsSync(join(dir, "worker-configuration.check.d.ts"))).toBe(false);
  });

  it("finds it stale when .dev.vars.example or wrangler.toml names something new, until npm run types", () => {
    write(".dev.vars.example", "# a comment\nAPI_KEY=\nLIMIT=5\nNEW_SECRET=\n");
    expect(staleLines(dir)).toContain("+ \t\tNEW_SECRET: string;");
    writeTypes(dir, true);
    expect(staleLines(dir)).toEqual([]);

    write("wrangler.toml", WRANGLER_TOML.replace("[vars]\n", '[vars]\nREGION = "eu"\n'));
    expect(staleLines(dir)).toContain("+ \t\tREGION: string;");
  });

  it("finds a missing file stale", () => {
    rmSync(join(dir, TYPES_FILE));
    expect(staleLines(dir).length).toBeGreaterThan(0);
  });
});
