import type { WorkerEnv } from "../config";

/** As for the webhook secret: anything shorter can be guessed. */
export const STATUS_TOKEN_MIN_CHARS = 16;

/** The configured STATUS_TOKEN, or undefined when `GET /status` is off (unset, or too short to be safe). */
export function statusToken(env: WorkerEnv): string | undefined {
  const token = env.STATUS_TOKEN?.trim();
  return token && token.length >= STATUS_TOKEN_MIN_CHARS ? token : undefined;
}

/**
 * Whether an `Authorization` header carries the token. Compared as SHA-256 digests in
 * constant time, so neither its content nor its length leaks through timing.
 */
export async function hasBearerToken(header: string | undefined, token: string): Promise<boolean> {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
  if (!given) return false;
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([given, token].map((s) => crypto.subtle.digest("SHA-256", encoder.encode(s))));
  return crypto.subtle.timingSafeEqual(a!, b!);
}
