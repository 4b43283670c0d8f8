/**
 * `npm run deploy`: deploys the Worker and gives it the secrets the operator should not have to type.
 *
 *   1. `wrangler deploy`, in the operator's terminal (it may ask to log in, pick an account or
 *      register a workers.dev subdomain). The first deploy creates the TASKS KV namespace: its binding
 *      has no id in wrangler.toml, and wrangler provisions such bindings, later deploys inheriting it.
 *   2. `wrangler secret list`: which secrets the Worker has.
 *   3. OPENHANDS_API_KEY, when this script's environment has it: `wrangler secret put`, via stdin.
 *   4. SETUP_TOKEN, only when the Worker has none: 32 random bytes in hex (64 characters; /setup refuses
 *      fewer than 32), via stdin. An existing one is never replaced, as the App credentials /setup stores
 *      are encrypted with a key derived from it: `npm run rotate-setup-token` replaces it and re-seals them.
 *   5. The Worker's URL as wrangler reported it, and the /setup link (with the token only when it was
 *      just created: Cloudflare never shows a secret again).
 *
 * Secrets go to wrangler on stdin only: never on a command line, in wrangler's environment, on disk
 * or on the screen (except the new setup link, which is meant to be opened).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { putSecret, type WranglerOptions, wranglerProcess } from "./wrangler-process";

/** The three wrangler calls the deploy makes; the tests replace them. */
export interface Wrangler {
  /** `wrangler deploy` in the operator's terminal: its exit code and its machine-readable output (ND-JSON). */
  deploy(): Promise<{ code: number; output: string }>;
  /** `wrangler secret list` (JSON): its exit code and stdout. */
  secretList(): Promise<{ code: number; stdout: string }>;
  /** `wrangler secret put NAME` with the value on stdin: its exit code. */
  secretPut(name: string, value: string): Promise<number>;
}

export interface DeployOptions {
  wrangler: Wrangler;
  /** The script's environment: OPENHANDS_API_KEY is read from it. */
  env: Record<string, string | undefined>;
  log: (line: string) => void;
  /** A new SETUP_TOKEN. */
  newToken?: () => string;
}

export const SETUP_TOKEN = "SETUP_TOKEN";
export const OPENHANDS_API_KEY = "OPENHANDS_API_KEY";

/** What `wrangler deploy` reported in its output file (WRANGLER_OUTPUT_FILE_PATH): the targets of the last deploy. */
export function parseDeployOutput(ndjson: string): { url?: string; targets: string[] } {
  let targets: string[] = [];
  for (const line of ndjson.split("\n")) {
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue; // blank or cut short
    }
    if (!isRecord(entry) || entry.type !== "deploy") continue;
    targets = Array.isArray(entry.targets) ? entry.targets.filter((t): t is string => typeof t === "string") : [];
  }
  // wrangler writes the workers.dev target with its scheme ("https://name.sub.workers.dev"), routes
  // without one, and the cron as "schedule: …".
  const url = targets.find((target) => /^https:\/\/[a-z0-9.-]+\.workers\.dev\/?$/i.test(target.trim()));
  return { url: url?.trim().replace(/\/$/, ""), targets };
}

/**
 * The secret names in `wrangler secret list`'s JSON (`[{"name": …, "type": "secret_text"}]`).
 * Throws when that is not what it printed: guessing "none" would replace an existing SETUP_TOKEN.
 */
export function parseSecretList(stdout: string): string[] {
  // The JSON is the last thing printed; anything before it (a notice) is not JSON.
  const start = stdout.search(/^\s*\[/m);
  if (start >= 0) {
    try {
      const list: unknown = JSON.parse(stdout.slice(start));
      if (Array.isArray(list) && list.every((s) => isRecord(s) && typeof s.name === "string")) {
        return list.map((s) => (s as { name: string }).name);
      }
    } catch {
      // reported below
    }
  }
  throw new Error(`wrangler secret list did not print a JSON list of secrets:\n${stdout.trim().slice(0, 500)}`);
}

/** What to set, from the secrets the Worker has and the script's environment. */
export function planSecrets(existing: readonly string[], env: DeployOptions["env"]) {
  const apiKey = env[OPENHANDS_API_KEY]?.trim() || undefined;
  return {
    createSetupToken: !existing.includes(SETUP_TOKEN),
    apiKey,
    apiKeyMissing: !apiKey && !existing.includes(OPENHANDS_API_KEY),
  };
}

export function setupLink(workerUrl: string | undefined, token: string): string {
  return `${workerUrl ?? "https://<your-worker-host>"}/setup?token=${token}`;
}

/** The whole deploy; resolves with the process exit code. */
export async function deploy({
  wrangler,
  env,
  log,
  newToken = () => randomBytes(32).toString("hex"),
}: DeployOptions): Promise<number> {
  const deployed = await wrangler.deploy();
  if (deployed.code !== 0) {
    log(`\n✖ wrangler deploy failed (exit ${deployed.code}); no secret was set.`);
    return deployed.code || 1;
  }
  const { url, targets } = parseDeployOutput(deployed.output);

  const listed = await wrangler.secretList();
  let existing: string[];
  try {
    if (listed.code !== 0) throw new Error(`wrangler secret list failed (exit ${listed.code})`);
    existing = parseSecretList(listed.stdout);
  } catch (error) {
    log(
      `\n✖ The Worker is deployed, but its secrets could not be listed, so none was set: ${(error as Error).message}`,
    );
    log("  Run `npm run deploy` again once `npx wrangler secret list` works.");
    return 1;
  }
  const plan = planSecrets(existing, env);

  log("");
  if (plan.apiKey) {
    if ((await wrangler.secretPut(OPENHANDS_API_KEY, plan.apiKey)) !== 0) {
      log(`✖ Setting ${OPENHANDS_API_KEY} failed; the rest was not done. Run \`npm run deploy\` again.`);
      return 1;
    }
    log(`✔ ${OPENHANDS_API_KEY} set from this shell's environment.`);
  } else if (plan.apiKeyMissing) {
    log(
      `⚠ The Worker has no ${OPENHANDS_API_KEY}: run \`${OPENHANDS_API_KEY}=… npm run deploy\` (a key from https://app.all-hands.dev → Settings → API Keys).`,
    );
  } else {
    log(`✔ ${OPENHANDS_API_KEY} already set (kept).`);
  }

  let token: string | undefined;
  if (plan.createSetupToken) {
    token = newToken();
    if ((await wrangler.secretPut(SETUP_TOKEN, token)) !== 0) {
      log(`✖ Setting ${SETUP_TOKEN} failed. Run \`npm run deploy\` again.`);
      return 1;
    }
    log(`✔ ${SETUP_TOKEN} generated and set.`);
  }

  log("");
  if (url) {
    log(`Worker: ${url}`);
  } else {
    log(
      `wrangler reported no workers.dev URL (targets: ${targets.join(", ") || "none"}); use the Worker's own host below.`,
    );
  }
  if (token) {
    log(
      `\nCreate the GitHub App here (the token is shown this once; keep the link private):\n\n  ${setupLink(url, token)}\n`,
    );
  } else {
    log(
      [
        `\n${SETUP_TOKEN} is already set (kept). The setup page is ${setupLink(url, `<${SETUP_TOKEN}>`)},`,
        "with the token the first `npm run deploy` printed (Cloudflare never shows a secret again).",
        "Lost it before creating the App? This prints a new link:",
        `  npx wrangler secret delete ${SETUP_TOKEN} && npm run deploy`,
        `Once the App exists, /setup is closed and ${SETUP_TOKEN} seals the App credentials it stored: keep it,`,
        "and change it only with `npm run rotate-setup-token`, which re-seals them (changed any other way, they",
        "can no longer be opened; /healthz then says so and how to recover).",
      ].join("\n"),
    );
  }
  return 0;
}

/** The real wrangler, this repository's own copy, run with the Node running this script. */
export function wranglerCli(options: WranglerOptions = {}): Wrangler {
  const run = wranglerProcess(options);
  return {
    async deploy() {
      // Its machine-readable output names the URL; the terminal stays the operator's.
      const dir = mkdtempSync(join(tmpdir(), "openhands-deploy-"));
      const outputFile = join(dir, "wrangler-output.ndjson");
      try {
        const { code } = await run(["deploy"], ["inherit", "inherit", "inherit"], {
          WRANGLER_OUTPUT_FILE_PATH: outputFile,
        });
        let output = "";
        try {
          output = readFileSync(outputFile, "utf8");
        } catch {
          // nothing written: no URL to report
        }
        return { code, output };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async secretList() {
      return run(["secret", "list", "--format", "json"], ["inherit", "pipe", "inherit"]);
    },
    async secretPut(name, value) {
      return putSecret(run, name, value);
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await deploy({ wrangler: wranglerCli(), env: process.env, log: (line) => console.log(line) });
}
