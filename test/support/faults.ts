import { json } from "./fakes/recorder";

/** The ways an upstream answers badly, as seen from the Worker. */
export const FAULTS = {
  "429 with Retry-After": () =>
    json(
      { message: "You have exceeded a secondary rate limit.", error: "Rate limit exceeded: 100 per 1 minute" },
      429,
      {
        "retry-after": "60",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 60),
      },
    ),
  "500": () => json({ message: "Server Error", detail: "Internal Server Error" }, 500),
  "502 with an HTML page": () =>
    new Response("<html><body>502 Bad Gateway</body></html>", {
      status: 502,
      headers: { "content-type": "text/html" },
    }),
  // Longer than UPSTREAM_TIMEOUT_SECONDS in the tests' environment.
  timeout: () => new Promise<Response>((resolve) => setTimeout(() => resolve(json({ late: true })), 1_000)),
  "200 with garbage JSON": () =>
    new Response('{"unterminated: ', { status: 200, headers: { "content-type": "application/json" } }),
} as const;

export type FaultName = keyof typeof FAULTS;
