import { env } from "cloudflare:test";
import { afterEach, beforeEach } from "vitest";
import { network } from "./support/network";
import { expectNothingOpenHandsAppAnswers } from "./support/world";

// Runs before each test file, in the workerd process the files share: every hook that must hold
// in every file is registered here, never at a shared module's top level (that runs only once).
afterEach(() => network.resetHandlers());

// OpenHands' own App is installed wherever the agent works: nothing the App posts, in any test, may set it off.
afterEach(expectNothingOpenHandsAppAnswers);

// Storage outlives a test file in this pool: start each test from an empty namespace.
beforeEach(async () => {
  let cursor: string | undefined;
  do {
    const page = await env.TASKS.list({ cursor });
    await Promise.all(page.keys.map((key) => env.TASKS.delete(key.name)));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
});
