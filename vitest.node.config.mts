import { defineConfig } from "vitest/config";

// Tests that run in Node, not in workerd: the operator's scripts (test/scripts/), the layering of src/ (test/architecture/), CPU time on outside text (test/linear-time/) and the
// browser tests (test/browser/). `npx vitest run --config vitest.node.config.mts`.
// vitest.config.mts (the Worker's tests, in workerd) excludes these folders.
export default defineConfig({
  test: {
    environment: "node",
    include: [
      "test/scripts/**/*.test.ts",
      "test/browser/**/*.test.ts",
      "test/architecture/**/*.test.ts",
      "test/linear-time/**/*.test.ts",
    ],
    testTimeout: 30_000,
  },
});
