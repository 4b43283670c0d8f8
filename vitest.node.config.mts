import { defineConfig } from "vitest/config";

// Tests that run in Node rather than in workerd: scripts, and the browser walk of
// /setup (wrangler dev + Debian's chromium). No Cloudflare plugin here.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts", "test/scripts/**/*.test.ts"],
    environment: "node",
    testTimeout: 120_000,
  },
});
