/**
 * An OpenHands call that did not give a usable answer. `retryable` separates
 * "try again later" (429, 5xx, timeouts, garbage) from "this will never work" (4xx).
 */
export class OpenHandsError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    /** When the service said it is worth trying again (epoch ms). */
    readonly retryAt?: number,
  ) {
    super(message);
    this.name = "OpenHandsError";
  }
}

/** Error bodies come as `{detail: string}`, `{detail: [...]}`, `{detail: {code, message}}` or `{error}`. */
export function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    const { detail, error } = body as { detail?: unknown; error?: unknown };
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((d) => (d && typeof d === "object" && "msg" in d ? String((d as { msg: unknown }).msg) : String(d)))
        .join("; ");
    }
    if (detail && typeof detail === "object" && "message" in detail)
      return String((detail as { message: unknown }).message);
    if (typeof error === "string") return error;
  }
  return `HTTP ${status}`;
}

/** Honours Retry-After, then X-RateLimit-Reset, then a daily quota's `reset_at`. */
export function retryAtFrom(response: Response, body: unknown, now: number): number | undefined {
  const retryAfter = response.headers.get("retry-after");
  if (retryAfter && /^\d+$/.test(retryAfter.trim())) return now + Number(retryAfter) * 1000;
  if (retryAfter) {
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return date;
  }
  const reset = response.headers.get("x-ratelimit-reset");
  if (reset && /^\d+$/.test(reset.trim())) return Number(reset) * 1000;
  const resetAt = (body as { detail?: { reset_at?: unknown } } | null)?.detail?.reset_at;
  if (typeof resetAt === "string" && Number.isFinite(Date.parse(resetAt))) return Date.parse(resetAt);
  return undefined;
}
