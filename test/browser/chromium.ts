import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/**
 * Debian's chromium, driven by playwright-core: no browser is ever downloaded.
 * .ci/run installs the package; a developer without it gets it installed here
 * when that is possible (root and apt-get), else the browser tests are skipped
 * with the reason. Under CI they are never skipped.
 */
const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Undefined when chromium is there (installed now if need be), else why it is not. */
export function ensureChromium(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.getuid?.() !== 0)
    return `${CHROMIUM} is absent and installing it needs root (apt-get install -y chromium)`;
  if (spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status !== 0)
    return `${CHROMIUM} is absent and there is no apt-get to install it`;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (args: string[]) => spawnSync("apt-get", args, { env, encoding: "utf8", timeout: 600_000 });
  const install = () => run(["install", "-y", "chromium"]);
  let result = install();
  // A machine that never ran `apt-get update` knows no package lists yet.
  if (result.status !== 0) {
    run(["update"]);
    result = install();
  }
  if (existsSync(CHROMIUM)) return undefined;
  return `${CHROMIUM} is absent and apt-get could not install it: ${(result.stderr || result.error?.message || "").trim().split("\n").slice(-3).join(" / ")}`;
}

/** A headless chromium with a profile of its own, removed on close. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), "openhands-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport: { width: 1100, height: 800 },
    // A missing element should fail a step in seconds, not at the test's timeout.
    timeout: 10_000,
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
