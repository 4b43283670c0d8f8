import { generateKeyPairSync } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { configDefaults, defineConfig } from "vitest/config";

// A throwaway App key for the tests, in both formats GitHub users may paste.
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

export default defineConfig({
  // As in wrangler.toml: the Node build of the signature check (node:crypto under nodejs_compat).
  resolve: { alias: { "@octokit/webhooks-methods": "./node_modules/@octokit/webhooks-methods/dist-node/index.js" } },
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // Lets a test dispatch a real cron event with `SELF.scheduled()`, as Cloudflare's
        // own examples do. Experimental: it only exists for the tests, never in production.
        compatibilityFlags: ["service_binding_extra_handlers"],
        bindings: {
          GITHUB_APP_ID: "123456",
          GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
          GITHUB_WEBHOOK_SECRET: "test-webhook-secret-7f3a9c",
          OPENHANDS_API_KEY: "oh_test_api_key_0123456789",
          // Octokit's quick retry waits a second in production; tests need not sleep through it
          // (test/github-retry.test.ts proves the real wait).
          GITHUB_RETRY_DELAY_MS: "0",
          TEST_PRIVATE_KEY_PKCS8: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
          TEST_PUBLIC_KEY: publicKey.export({ type: "spki", format: "pem" }).toString(),
        },
      },
    }),
  ],
  test: {
    // These run in Node: vitest.node.config.mts.
    exclude: [
      ...configDefaults.exclude,
      "test/scripts/**",
      "test/browser/**",
      "test/architecture/**",
      "test/linear-time/**",
    ],
    setupFiles: ["./test/setup.ts"],
    // One workerd per Vitest worker, shared by the files it runs: starting workerd for each file
    // cost about 4 of the suite's 5 minutes. Each test starts from an empty KV and fresh
    // module memory (test/setup.ts, `startFakes`), which is also what a reused isolate gives the Worker.
    isolate: false,
    // The Worker logs one JSON line per step; show them only for failing tests.
    silent: "passed-only",
    // `npm run bench` shows the figures the tests print, without the Worker's own log lines.
    onConsoleLog: (log) => (process.env.FIGURES_ONLY ? log.includes("[figures]") : undefined),
    testTimeout: 30_000,
  },
});
