import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { CRON_PERIOD_MS } from "../../src/poller/cron-period";

// The clock-only decisions (activity looks, token refreshes, the hourly sweep) assume the cron's period:
// wrangler.toml sets it, src/poller/cron-period.ts knows it, and this holds the two together.
it("wrangler.toml's cron runs every CRON_PERIOD_MS", () => {
  const toml = readFileSync(join(import.meta.dirname, "../../wrangler.toml"), "utf8");
  const crons = /^crons\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1];
  expect(crons?.trim()).toMatch(/^"\*\/\d+ \* \* \* \*"$/);
  const minutes = Number(/\*\/(\d+)/.exec(crons!)![1]);
  expect(minutes * 60_000).toBe(CRON_PERIOD_MS);
});
