import { describe, expect, it } from "vitest";
import { sanitize } from "../../src/prompt/sanitize";
import { containsMention } from "../../src/trigger/mention";

/**
 * Text from outside (issue bodies up to 65,536 characters, comments, the agent's own output)
 * must cost time linear in its length: on Workers Free an invocation gets 10 ms of CPU, and
 * one killed there retries the same step every tick. Run in Node, because workerd's clock
 * does not move during pure computation. Issue 20.
 */
const LENGTH = 65_536;
const RUNS = [" ", "\t", "\u00a0", "`", "~", "<", "*", "[", "@", "` ", "`a`", "\n```", "\n~~~", "\n> "];
/**
 * A linear pass over 64 KiB takes a few ms to a few tens on a busy 2-core machine; the quadratic
 * patterns this replaced took seconds (5 s for tabs before a letter). The bound sits between, with
 * room for a CI machine that shares its cores.
 */
const BOUND_MS = 250;

function slowest(run: (text: string) => unknown): { ms: number; shape: string } {
  let worst = { ms: 0, shape: "" };
  for (const char of RUNS) {
    const run_ = char.repeat(Math.ceil(LENGTH / char.length)).slice(0, LENGTH);
    for (const [shape, text] of [
      [`${JSON.stringify(char)} alone`, run_],
      [`${JSON.stringify(char)} then x`, `${run_}x`],
      [`x then ${JSON.stringify(char)}`, `x${run_}`],
      [`${JSON.stringify(char)} per line then x`, `${run_.slice(LENGTH / 2)}x\n${run_.slice(LENGTH / 2)}x`],
    ] as const) {
      run(text); // warm
      const started = performance.now();
      run(text);
      const ms = performance.now() - started;
      if (ms > worst.ms) worst = { ms, shape };
    }
  }
  return worst;
}

describe("outside text costs linear time", () => {
  it("sanitize (issue and PR bodies, replies, diff hunks, the agent's messages)", () => {
    const worst = slowest(sanitize);
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("the mention check of text that does not name the App (every comment a webhook sees)", () => {
    const worst = slowest((text) => containsMention(text, "@openhands-app"));
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("the mention check of text that names the App, around the runs", () => {
    const worst = slowest((text) => containsMention(`@openhands-app ${text} @openhands-app`, "@openhands-app"));
    expect(worst.ms, `slowest: ${worst.shape}`).toBeLessThan(BOUND_MS);
  });

  it("still trims trailing whitespace of each line and keeps the lines", () => {
    expect(sanitize("a  \t\nb\u00a0\n\n  c  ")).toBe("a\nb\n\n  c");
  });
});
