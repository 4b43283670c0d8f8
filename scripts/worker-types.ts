/**
 * `npm run types` writes worker-configuration.d.ts, the Worker's `Env`, with `wrangler types`:
 * the bindings and [vars] of wrangler.toml, and every name in .dev.vars.example (the secrets and the
 * optional settings). `npm run types:check`, the first step of `npm test`, fails when the checked-in
 * file is not what `npm run types` would write now.
 *
 * The flags:
 * - `--include-runtime=false`: the runtime types come from @cloudflare/workers-types (tsconfig.json).
 * - `--strict-vars=false`: a [vars] value is typed `string`, not as its literal (operators and tests set others).
 * - `--env-file .dev.vars.example`: the names wrangler types as secrets. Without it wrangler would read a
 *   developer's own .dev.vars (or .env), and the file would depend on whose machine wrote it. (Not a
 *   `[secrets] required` list in wrangler.toml: wrangler 4.86 calls it experimental, refuses a first
 *   `wrangler deploy` until each listed secret is set, while this Worker is deployed first and set up
 *   after, and `wrangler dev` then loads only the listed names from .dev.vars.)
 *
 * Not wrangler's own `--check`: wrangler 4.86 regenerates without `--env-file` for it, so it calls a fresh
 * file stale (and `wrangler dev`'s "Your types might be out of date" hint, which only logs, does the same
 * when a .dev.vars names other things than .dev.vars.example). The check writes a scratch file beside the real one (the generated
 * `mainModule` import is relative to the file) and compares. Neither needs a network or a Cloudflare login.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const TYPES_FILE = "worker-configuration.d.ts";
const SCRATCH_FILE = "worker-configuration.check.d.ts";
const FLAGS = ["--include-runtime=false", "--strict-vars=false", "--env-file", ".dev.vars.example"];

const projectRoot = fileURLToPath(new URL("..", import.meta.url));

/** `path`: where to write, instead of worker-configuration.d.ts. */
function wranglerTypes(root: string, path: string | undefined, quiet: boolean): void {
  const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
  const result = spawnSync(process.execPath, [wrangler, "types", ...(path ? [path] : []), ...FLAGS], {
    cwd: root,
    encoding: "utf8",
    stdio: quiet ? "pipe" : "inherit",
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      // The names come from .dev.vars.example alone, whatever the shell says.
      CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "true",
      CLOUDFLARE_INCLUDE_PROCESS_ENV: "false",
    },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout}${result.stderr}`);
    throw new Error(`wrangler types exited with ${result.status ?? result.signal}`);
  }
}

/** `npm run types`. */
export function writeTypes(root = projectRoot, quiet = false): void {
  wranglerTypes(root, undefined, quiet);
}

/** `npm run types:check`: the lines that differ from what `npm run types` would write; none when up to date. */
export function staleLines(root = projectRoot): string[] {
  const scratch = join(root, SCRATCH_FILE);
  let fresh: string;
  try {
    wranglerTypes(root, SCRATCH_FILE, true);
    fresh = readFileSync(scratch, "utf8");
  } finally {
    rmSync(scratch, { force: true });
  }
  // The header names the command that wrote the file; the real one has no path argument.
  fresh = fresh.replace(`\`wrangler types ${SCRATCH_FILE} `, "`wrangler types ");
  let current = "";
  try {
    current = readFileSync(join(root, TYPES_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (current === fresh) return [];
  const [was, now] = [current.split("\n"), fresh.split("\n")];
  const differing = [
    ...was.filter((line) => !now.includes(line)).map((line) => `- ${line}`),
    ...now.filter((line) => !was.includes(line)).map((line) => `+ ${line}`),
  ];
  // Same lines in another order (or only blank lines changed): still stale.
  return differing.length ? differing : ["(the same lines in another order)"];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--check")) {
    const lines = staleLines();
    if (lines.length) {
      console.error(
        `${TYPES_FILE} is out of date with wrangler.toml and .dev.vars.example: run \`npm run types\` and commit it.`,
      );
      for (const line of lines) console.error(`  ${line}`);
      process.exitCode = 1;
    } else {
      console.log(`${TYPES_FILE} is up to date.`);
    }
  } else {
    writeTypes();
  }
}
