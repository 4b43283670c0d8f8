import { setupServer } from "msw/node";

/**
 * Every outbound request must be answered by a fake; anything else fails the test.
 *
 * One server per workerd process: the test files that run in it share this module (they are not
 * isolated from each other, see vitest.config.mts), so it starts listening once and is never
 * closed, while each test's handlers are reset by `test/setup.ts`.
 */
export const network = setupServer();
network.listen({ onUnhandledRequest: "error" });
