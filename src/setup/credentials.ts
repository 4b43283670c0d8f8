/**
 * The App's credentials as the manifest flow hands them over (`/setup`), kept by
 * the Worker itself so that nobody copies a private key by hand. They are
 * sealed with AES-GCM under a key derived (HKDF) from the `SETUP_TOKEN` secret,
 * which never leaves Cloudflare's secret store: KV alone (a dashboard view, a
 * backup, a leaked API token with KV read) gives nothing usable.
 */
export interface AppCredentials {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  slug: string;
  owner: string;
}

const KEY = "app:credentials";

interface Sealed {
  v: 1;
  iv: string;
  data: string;
}

async function sealingKey(token: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(token), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new TextEncoder().encode("openhands-github-app"),
      info: new TextEncoder().encode("app-credentials v1"),
    },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

export async function storeCredentials(kv: KVNamespace, token: string, credentials: AppCredentials): Promise<void> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    await sealingKey(token),
    new TextEncoder().encode(JSON.stringify(credentials)),
  );
  const sealed: Sealed = { v: 1, iv: toBase64(iv), data: toBase64(new Uint8Array(data)) };
  await kv.put(KEY, JSON.stringify(sealed));
}

/** Whether the App was set up through `/setup` (whatever the token). */
export async function hasStoredCredentials(kv: KVNamespace): Promise<boolean> {
  return (await kv.get(KEY)) !== null;
}

/** Undefined when none are stored, or when they cannot be opened with this token (it was changed). */
export async function readCredentials(kv: KVNamespace, token: string): Promise<AppCredentials | undefined> {
  const sealed = await kv.get<Sealed>(KEY, "json");
  if (sealed?.v !== 1) return undefined;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(sealed.iv) },
      await sealingKey(token),
      fromBase64(sealed.data),
    );
    return JSON.parse(new TextDecoder().decode(plain)) as AppCredentials;
  } catch {
    return undefined;
  }
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
