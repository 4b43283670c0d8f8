import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// docs/ARCHITECTURE.md describes src/ one row per top-level entry: a folder or file added, renamed or removed
// without its row makes the description wrong, and this says which.
const ROOT = join(import.meta.dirname, "../..");
const HEADER = /^\|\s*layer\s*\|\s*entry\s*\|\s*job\s*\|$/;

/** The `entry` column of the layout table: each row's names in backticks ("`budget.ts`, `usage.ts`" is two). */
function layoutEntries(markdown: string): string[] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => HEADER.test(line.trim()));
  if (start === -1) throw new Error("no | layer | entry | job | table");
  const rows = lines.slice(start + 2);
  const end = rows.findIndex((line) => !line.trim().startsWith("|"));
  return (end === -1 ? rows : rows.slice(0, end)).flatMap((row) => {
    const entry = row.split("|")[2] ?? "";
    return [...entry.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
  });
}

/** What `ls src/` shows: folders with a trailing slash, then the TypeScript files. */
function srcEntries(): string[] {
  return readdirSync(join(ROOT, "src"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() || entry.name.endsWith(".ts"))
    .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name));
}

describe("docs/ARCHITECTURE.md's layout table", () => {
  const entries = layoutEntries(readFileSync(join(ROOT, "docs/ARCHITECTURE.md"), "utf8"));

  it("names every entry of src/, and nothing else", () => {
    expect([...entries].sort()).toEqual(srcEntries().sort());
  });

  it("names each entry once", () => {
    expect(entries.filter((entry, i) => entries.indexOf(entry) !== i)).toEqual([]);
  });

  it("reads one or several names per row, from the entry column only", () => {
    const table = [
      "| layer | entry | job |",
      "|---|---|---|",
      "| in | `a/` | `not/this` |",
      "| | `b.ts`, `c.ts` | x |",
    ];
    expect(layoutEntries([...table, "", "| after | `d/` | |"].join("\n"))).toEqual(["a/", "b.ts", "c.ts"]);
  });
});
