import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";

/**
 * The setup session: the link `npm run deploy` prints carries `SETUP_TOKEN`
 * once, and `/setup` trades it at once for this cookie, so the token leaves the
 * address bar and no later request carries it in a URL. The cookie holds no
 * secret: an issue time and a random nonce (the manifest flow's `state` is bound
 * to it, ./state.ts), signed with Hono's signed cookies under a key derived from
 * the token (verified with Web Crypto's HMAC verify, in constant time). A new
 * token ends every session.
 *
 * `HttpOnly` (no script reads it), `Secure`, `SameSite=Strict` (never sent on a
 * request another site starts, which is also why GitHub's redirect back to the
 * callback arrives without it, see route.ts), `Path=/setup`, and an hour, the
 * life of GitHub's manifest codes; the issue time is checked here too, so a
 * copied cookie is no good after the hour either.
 */
const COOKIE = "setup_session";
const SESSION_MS = 3600_000;
const ATTRIBUTES = { httpOnly: true, secure: true, sameSite: "Strict", path: "/setup" } as const;

/** Its own name for the key: no other MAC made with the token can pass for a session. */
const signingKey = (token: string) => `openhands-github-app setup-session ${token}`;

export async function startSession(c: Context, token: string, now = Date.now()): Promise<void> {
  const nonce = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  await setSignedCookie(c, COOKIE, `${now}.${nonce}`, signingKey(token), { ...ATTRIBUTES, maxAge: SESSION_MS / 1000 });
}

/** The session's nonce, when this request carries a session this token signed within the hour. */
export async function sessionOf(c: Context, token: string, now = Date.now()): Promise<string | undefined> {
  const value = await getSignedCookie(c, signingKey(token), COOKIE);
  const match = /^(\d{13})\.([0-9a-f]{32})$/.exec(value || "");
  if (!match) return undefined;
  const age = now - Number(match[1]);
  return age >= 0 && age <= SESSION_MS ? match[2] : undefined;
}

/** Setup is over: the browser forgets the session. */
export function endSession(c: Context): void {
  deleteCookie(c, COOKIE, ATTRIBUTES);
}
