/**
 * The HTTP status an upstream error carries, if any: Octokit's `RequestError`
 * and our `OpenHandsError` both have `status`; a network failure or a bug has none.
 */
export function httpStatus(error: unknown): number | undefined {
  const status = typeof error === "object" && error !== null ? (error as { status?: unknown }).status : undefined;
  return typeof status === "number" ? status : undefined;
}
