import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { END, examples, renderExamples, START, withExamples } from "../../scripts/readme-examples";

const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");

describe("the README's tracking comment examples", () => {
  it("are what the App's message functions write now (run `npm run readme:examples` when this fails)", () => {
    expect(readme.slice(readme.indexOf(START), readme.indexOf(END) + END.length)).toBe(renderExamples());
  });

  it("show every stage, each one rendered from the real functions", () => {
    const stages = examples();
    expect(stages.map(({ body }) => body.match(/^(\S+) \*\*(?:OpenHands |Reviewed)/u)?.[1])).toEqual([
      "⏳",
      "👀",
      "✅",
      "✅",
      "❌",
    ]);
    expect(stages[2]!.body).toContain(
      "[#42 Fix leap years in parseDate](https://github.com/acme/widgets/pull/42) (draft)",
    );
    expect(stages[2]!.body).toContain("$0.87 · 421k tokens");
  });

  it("replace only their own part, and say so when the markers are gone", () => {
    const stale = `# Title\n\n${START}\nold\n${END}\n\nafter`;
    expect(withExamples(stale)).toBe(`# Title\n\n${renderExamples()}\n\nafter`);
    expect(() => withExamples("# no markers")).toThrow(/no <!-- readme-examples:start/);
  });
});
