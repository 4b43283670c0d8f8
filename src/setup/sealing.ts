/**
 * The sealed form of the App credentials in KV: AES-GCM under a key derived
 * (HKDF) from `SETUP_TOKEN`. Web Crypto only, and no Workers type, so that
 * `npm run rotate-setup-token` (Node) opens and re-seals exactly what the
 * Worker wrote.
 */
/** Where the Worker keeps them. */
export const CREDENTIALS_KEY = "app:credentials";
/**
 * A copy sealed under the next token, written by `npm run rotate-setup-token`
 * before it sets that token (with a day's expiry): from the moment the new
 * secret is live until the main copy is re-sealed, the Worker opens this one.
 */
export const ROTATION_KEY = "app:credentials:next";

interface Sealed {
  v: 1;
  iv: string;
  data: string;
}

async function sealingKey(token: string) {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(token), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      // Fixed for good, not the service's name: another salt would leave stored credentials unopenable.
      salt: new TextEncoder().encode("openhands-github-app"),
      info: new TextEncoder().encode("app-credentials v1"),
    },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** `plain` sealed under `token`, as the JSON text stored in KV. */
export async function seal(token: string, plain: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    await sealingKey(token),
    new TextEncoder().encode(plain),
  );
  const sealed: Sealed = { v: 1, iv: toBase64(iv), data: toBase64(new Uint8Array(data)) };
  return JSON.stringify(sealed);
}

/** The plain text, or undefined when `sealed` is not ours or was sealed under another token. */
export async function unseal(token: string, sealed: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(sealed) as Partial<Sealed> | null;
    if (parsed?.v !== 1 || typeof parsed.iv !== "string" || typeof parsed.data !== "string") return undefined;
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(parsed.iv) },
      await sealingKey(token),
      fromBase64(parsed.data),
    );
    return new TextDecoder().decode(plain);
  } catch {
    return undefined;
  }
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
