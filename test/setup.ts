import { env } from "cloudflare:test";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";

/** Every outbound request must be answered by a fake; anything else fails the test. */
export const network = setupServer();
beforeAll(() => network.listen({ onUnhandledRequest: "error" }));
afterEach(() => network.resetHandlers());
afterAll(() => network.close());

// Storage outlives a test in this pool version: start each test from an empty namespace.
beforeEach(async () => {
  let cursor: string | undefined;
  do {
    const page = await env.TASKS.list({ cursor });
    await Promise.all(page.keys.map((key) => env.TASKS.delete(key.name)));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
});
