/**
 * When GitHub said to come back, for a rate-limited answer: 429, or 403 with
 * `Retry-After` or an exhausted `X-RateLimit-Remaining` (GitHub's primary and
 * secondary limits). Undefined for any other error. See
 * https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
 */
export function gitHubRetryAt(error: unknown, now: number): number | undefined {
  const { status, response, message } = error as {
    status?: number;
    message?: string;
    response?: { headers?: Record<string, string | number | undefined> };
  };
  if (status !== 429 && status !== 403) return undefined;
  const headers = response?.headers ?? {};
  const retryAfter = headers["retry-after"];
  const remaining = headers["x-ratelimit-remaining"];
  const reset = headers["x-ratelimit-reset"];
  if (retryAfter !== undefined && /^\d+$/.test(String(retryAfter).trim())) return now + Number(retryAfter) * 1000;
  if (String(remaining) === "0" && reset !== undefined && /^\d+$/.test(String(reset).trim())) {
    return Math.max(now, Number(reset) * 1000);
  }
  // GitHub: a secondary limit without either header means "wait at least a minute".
  const limited = status === 429 || String(remaining) === "0" || /rate limit/i.test(message ?? "");
  return limited ? now + 60_000 : undefined;
}
