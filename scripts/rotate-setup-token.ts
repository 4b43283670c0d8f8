/**
 * `npm run rotate-setup-token`: gives the Worker a new SETUP_TOKEN and re-seals the App credentials
 * /setup stored under it, so that changing the token never leaves the Worker unable to open them.
 *
 *   1. `wrangler kv key list --prefix app:credentials`: is anything sealed? If not, the token only
 *      opens /setup: a new one is set and the new setup link printed.
 *   2. The current token (SETUP_TOKEN in this shell's environment, else asked on the terminal, not
 *      shown) must open what is stored (`wrangler kv key get`); otherwise nothing is changed. Cloudflare
 *      never shows a secret again, so only the operator can give it.
 *   3. (A rotation left unfinished is finished first: the main copy sealed under the current token.)
 *      A copy sealed under the new token goes to `app:credentials:next` (it expires in a day), then
 *      `wrangler secret put SETUP_TOKEN` (the new one, on stdin), then the main copy is re-sealed. At
 *      every moment the Worker can open one of them: the old token opens the main copy until the new
 *      secret is live, the new one opens the rotation copy until the main copy is re-sealed
 *      (src/setup/credentials.ts). Afterwards no stored copy opens with the old token.
 *   4. The new token, printed once.
 *
 * The same command repairs a Worker whose SETUP_TOKEN was changed some other way: given the token the
 * credentials were sealed with, it re-seals them under a new one and sets it.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CREDENTIALS_KEY, ROTATION_KEY, seal, unseal } from "../src/setup/sealing";
import { SETUP_TOKEN, setupLink } from "./deploy";
import { putSecret, type WranglerOptions, wranglerProcess } from "./wrangler-process";

/** The wrangler calls the rotation makes; the tests replace them. */
export interface RotationWrangler {
  /** `wrangler kv key list --prefix …` on the Worker's TASKS namespace: exit code and stdout (JSON). */
  kvKeys(prefix: string): Promise<{ code: number; stdout: string }>;
  /** `wrangler kv key get KEY`: exit code and the value as printed. */
  kvGet(key: string): Promise<{ code: number; stdout: string }>;
  /** `wrangler kv key put KEY` (from a file), expiring after `ttlSeconds` when given: exit code. */
  kvPut(key: string, value: string, ttlSeconds?: number): Promise<number>;
  /** `wrangler secret put NAME` with the value on stdin: exit code. */
  secretPut(name: string, value: string): Promise<number>;
}

export interface RotationOptions {
  wrangler: RotationWrangler;
  /** The token the credentials are sealed with now. */
  currentToken: () => Promise<string>;
  log: (line: string) => void;
  newToken?: () => string;
}

/** Long enough for the rotation to finish, and for the edge caches of the main copy (60 s) to expire. */
const ROTATION_COPY_TTL_SECONDS = 86_400;

/** The key names in `wrangler kv key list`'s JSON (`[{"name": …}]`); throws on anything else. */
export function parseKeyList(stdout: string): string[] {
  const start = stdout.search(/^\s*\[/m);
  if (start >= 0) {
    try {
      const list: unknown = JSON.parse(stdout.slice(start));
      if (Array.isArray(list) && list.every((k) => typeof k === "object" && k && typeof k.name === "string")) {
        return list.map((k) => (k as { name: string }).name);
      }
    } catch {
      // reported below
    }
  }
  throw new Error(`wrangler kv key list did not print a JSON list of keys:\n${stdout.trim().slice(0, 500)}`);
}

/** The whole rotation; resolves with the process exit code. */
export async function rotate({
  wrangler,
  currentToken,
  log,
  newToken = () => randomBytes(32).toString("hex"),
}: RotationOptions): Promise<number> {
  const listed = await wrangler.kvKeys(CREDENTIALS_KEY);
  let stored: string[];
  try {
    if (listed.code !== 0) throw new Error(`wrangler kv key list failed (exit ${listed.code})`);
    const keys = parseKeyList(listed.stdout);
    // Without the main copy nothing is set up (the Worker reads the rotation copy only beside it): a
    // rotation copy left from before a start-over is not brought back.
    stored = keys.includes(CREDENTIALS_KEY) ? [CREDENTIALS_KEY, ROTATION_KEY].filter((key) => keys.includes(key)) : [];
  } catch (error) {
    log(`✖ The Worker's KV could not be read, so nothing was changed: ${(error as Error).message}`);
    return 1;
  }

  const token = newToken();
  if (stored.length === 0) {
    // Nothing sealed yet: the token only opens /setup.
    if ((await wrangler.secretPut(SETUP_TOKEN, token)) !== 0) {
      log(`✖ Setting ${SETUP_TOKEN} failed; the Worker keeps its token.`);
      return 1;
    }
    log(`✔ ${SETUP_TOKEN} replaced. No App credentials were stored yet, so nothing needed re-sealing.`);
    log(
      `\nThe new setup link (shown this once; use the Worker's URL npm run deploy printed):\n\n  ${setupLink(undefined, token)}\n`,
    );
    return 0;
  }

  const current = (await currentToken()).trim();
  let plain: string | undefined;
  let openedFrom: string | undefined;
  for (const key of stored) {
    const read = await wrangler.kvGet(key);
    if (read.code !== 0) {
      log(`✖ Reading ${key} failed (exit ${read.code}), so nothing was changed.`);
      return 1;
    }
    plain = await unseal(current, sealedValue(read.stdout));
    if (plain !== undefined) {
      openedFrom = key;
      break;
    }
  }
  if (plain === undefined) {
    log(
      [
        `✖ That token does not open the App credentials the Worker stored (${stored.join(", ")}), so nothing was changed.`,
        "  Give the token they were sealed with: the one in the setup link npm run deploy printed, or the last one",
        "  this command printed. If it is lost, they cannot be opened: set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY",
        "  and GITHUB_WEBHOOK_SECRET by hand (docs/OPERATING.md, the fallback).",
      ].join("\n"),
    );
    return 1;
  }

  // A rotation left unfinished: the rotation copy is the one under the live token, and is about to be
  // replaced, so the main copy is sealed under that token first.
  if (openedFrom === ROTATION_KEY && (await wrangler.kvPut(CREDENTIALS_KEY, await seal(current, plain))) !== 0) {
    log(`✖ Re-sealing ${CREDENTIALS_KEY} failed, so nothing else was changed. Run this again.`);
    return 1;
  }
  const resealed = await seal(token, plain);
  if ((await wrangler.kvPut(ROTATION_KEY, resealed, ROTATION_COPY_TTL_SECONDS)) !== 0) {
    log(`✖ Writing ${ROTATION_KEY} failed; nothing was changed (the Worker keeps its token).`);
    return 1;
  }
  if ((await wrangler.secretPut(SETUP_TOKEN, token)) !== 0) {
    log(
      `✖ Setting ${SETUP_TOKEN} failed; the Worker keeps its token and its credentials (${ROTATION_KEY}, sealed under a token that was not set, expires in a day).`,
    );
    return 1;
  }
  const finished = (await wrangler.kvPut(CREDENTIALS_KEY, resealed)) === 0;
  log(`✔ ${SETUP_TOKEN} replaced${finished ? ", and the App credentials re-sealed under it" : ""}.`);
  log(
    `\nThe new ${SETUP_TOKEN} (shown this once; keep it: the App credentials are sealed with it, and the next rotation asks for it):\n\n  ${token}\n`,
  );
  if (!finished) {
    log(
      [
        `✖ Re-sealing ${CREDENTIALS_KEY} failed. The Worker opens its credentials from ${ROTATION_KEY} meanwhile,`,
        "  which expires in a day: run `npm run rotate-setup-token` again before then, with the new token above.",
      ].join("\n"),
    );
    return 1;
  }
  return 0;
}

/** The value as `wrangler kv key get` printed it: the sealed JSON, whatever came before it. */
function sealedValue(stdout: string): string {
  const start = stdout.indexOf('{"v":');
  return start >= 0 ? stdout.slice(start).trim() : stdout.trim();
}

/** The real wrangler, on the Worker's TASKS namespace in Cloudflare (not wrangler dev's local copy). */
export function rotationWranglerCli(options: WranglerOptions = {}): RotationWrangler {
  const run = wranglerProcess(options);
  const namespace = ["--binding", "TASKS", "--remote"];
  return {
    kvKeys: (prefix) => run(["kv", "key", "list", "--prefix", prefix, ...namespace], ["inherit", "pipe", "inherit"]),
    kvGet: (key) => run(["kv", "key", "get", key, ...namespace], ["inherit", "pipe", "inherit"]),
    async kvPut(key, value, ttlSeconds) {
      // From a file: on the command line wrangler would echo the value (sealed, but long) to the terminal.
      const dir = mkdtempSync(join(tmpdir(), "openhands-rotate-"));
      try {
        const path = join(dir, "value.json");
        writeFileSync(path, value, { mode: 0o600 });
        const ttl = ttlSeconds === undefined ? [] : ["--ttl", String(ttlSeconds)];
        const { code } = await run(
          ["kv", "key", "put", key, "--path", path, ...namespace, ...ttl],
          ["inherit", "inherit", "inherit"],
        );
        return code;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    secretPut: (name, value) => putSecret(run, name, value),
  };
}

/** SETUP_TOKEN from this shell's environment, else asked on the terminal without echo, else read from stdin. */
export async function askCurrentToken(env: Record<string, string | undefined>): Promise<string> {
  const fromEnv = env[SETUP_TOKEN]?.trim();
  if (fromEnv) return fromEnv;
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = "";
    for await (const chunk of stdin) text += chunk;
    return text.trim();
  }
  process.stderr.write(`The current ${SETUP_TOKEN} (not shown as you type): `);
  return new Promise((resolve) => {
    let typed = "";
    stdin.setRawMode(true);
    stdin.setEncoding("utf8");
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n" || char === "\u0004") {
          stdin.setRawMode(false);
          stdin.off("data", onData);
          stdin.pause();
          process.stderr.write("\n");
          resolve(typed);
          return;
        }
        if (char === "\u0003") {
          stdin.setRawMode(false);
          process.stderr.write("\n");
          process.exit(130);
        }
        typed = char === "\u007f" || char === "\b" ? typed.slice(0, -1) : typed + char;
      }
    };
    stdin.on("data", onData);
    stdin.resume();
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await rotate({
    wrangler: rotationWranglerCli(),
    currentToken: () => askCurrentToken(process.env),
    log: (line) => console.log(line),
  });
}
