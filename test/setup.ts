import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll } from "vitest";
export const network = setupServer();
beforeAll(() => network.listen({ onUnhandledRequest: "error" }));
afterEach(() => network.resetHandlers());
afterAll(() => network.close());
