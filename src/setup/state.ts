/**
 * The `state` GitHub hands back with the manifest code: a time and an HMAC of
 * it and of the setup session's nonce (./session.ts) under the setup token. A
 * callback whose state this Worker did not make in the last hour (GitHub's codes
 * live an hour), or made for another browser's session, is refused: a code
 * obtained elsewhere, or a state read from someone's history, cannot set this
 * Worker up. Stateless: no KV write.
 */
const VALID_MS = 3600_000;

async function mac(token: string, session: string, issuedAt: number): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(token),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`setup-state:${issuedAt}:${session}`),
  );
  return [...new Uint8Array(signature)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function makeState(token: string, session: string, now = Date.now()): Promise<string> {
  return `${now}.${await mac(token, session, now)}`;
}

export async function isValidState(
  token: string,
  session: string,
  state: string | undefined,
  now = Date.now(),
): Promise<boolean> {
  const match = /^(\d{13})\.([0-9a-f]{64})$/.exec(state ?? "");
  if (!match) return false;
  const issuedAt = Number(match[1]);
  if (!(now - issuedAt >= 0 && now - issuedAt <= VALID_MS)) return false;
  return sameText(await mac(token, session, issuedAt), match[2]!);
}

/** Constant-time comparison, so timing does not reveal how much of a guess was right. */
export function sameText(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  if (left.byteLength !== right.byteLength) return false;
  return crypto.subtle.timingSafeEqual(left, right);
}
