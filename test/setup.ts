import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll } from "vitest";

/** Every outbound request must be answered by a fake; anything else fails the test. */
export const network = setupServer();
beforeAll(() => network.listen({ onUnhandledRequest: "error" }));
afterEach(() => network.resetHandlers());
afterAll(() => network.close());
