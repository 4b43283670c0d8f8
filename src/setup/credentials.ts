import { CREDENTIALS_KEY, ROTATION_KEY, seal, unseal } from "./sealing";

/**
 * The App's credentials as the manifest flow hands them over (`/setup`), kept by
 * the Worker itself so that nobody copies a private key by hand. They are
 * sealed with AES-GCM under a key derived (HKDF) from the `SETUP_TOKEN` secret
 * (./sealing.ts), which never leaves Cloudflare's secret store: KV alone (a
 * dashboard view, a backup, a leaked API token with KV read) gives nothing usable.
 */
export interface AppCredentials {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  slug: string;
  owner: string;
}

export async function storeCredentials(kv: KVNamespace, token: string, credentials: AppCredentials): Promise<void> {
  await kv.put(CREDENTIALS_KEY, await seal(token, JSON.stringify(credentials)));
}

/** Whether the App was set up through `/setup` (whatever the token). */
export async function hasStoredCredentials(kv: KVNamespace): Promise<boolean> {
  return (await kv.get(CREDENTIALS_KEY)) !== null;
}

/** What `/setup` stored, opened; or why it cannot be; undefined when nothing is stored. */
export type OpenedCredentials = { credentials: AppCredentials } | { problem: string } | undefined;

const FIX =
  "Set SETUP_TOKEN back to the token they were sealed with (npx wrangler secret put SETUP_TOKEN), then change it with npm run rotate-setup-token, which re-seals them; " +
  "or run SETUP_TOKEN=<that token> npm run rotate-setup-token directly. If that token is lost, they cannot be opened: set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET by hand (docs/OPERATING.md, the fallback).";

/**
 * The main copy first; the rotation copy when the main one does not open (a
 * rotation between setting the new token and re-sealing the main copy). A
 * stored copy that opens under neither is a problem the operator must hear of
 * (logs, /healthz), never a silent "not set up".
 */
export async function openCredentials(kv: KVNamespace, token: string | undefined): Promise<OpenedCredentials> {
  const main = await kv.get(CREDENTIALS_KEY);
  if (main === null) return undefined;
  if (!token) {
    return {
      problem: `SETUP_TOKEN is not set, but the App credentials /setup stored (KV ${CREDENTIALS_KEY}) are sealed with it. ${FIX}`,
    };
  }
  const plain = (await unseal(token, main)) ?? (await openRotationCopy(kv, token));
  if (plain === undefined) {
    return {
      problem: `The App credentials /setup stored (KV ${CREDENTIALS_KEY}) do not open with this SETUP_TOKEN: it was changed without npm run rotate-setup-token. ${FIX}`,
    };
  }
  return { credentials: JSON.parse(plain) as AppCredentials };
}

async function openRotationCopy(kv: KVNamespace, token: string): Promise<string | undefined> {
  const next = await kv.get(ROTATION_KEY);
  return next === null ? undefined : unseal(token, next);
}
