/**
 * This repository's own wrangler, run with the Node running the script, for `npm run deploy` and
 * `npm run rotate-setup-token`. Secrets go to it on stdin only: its environment never carries
 * OPENHANDS_API_KEY or SETUP_TOKEN (the operator's shell may have them), and it must not write
 * request bodies (the secrets we send it) into its debug log file, whatever the shell says.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface WranglerOptions {
  /** The wrangler to run (the tests pass a stand-in); default: node_modules' wrangler. */
  command?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

type Stdio = "inherit" | "pipe" | "ignore";
export type RunWrangler = (
  args: string[],
  stdio: Stdio[],
  extraEnv?: NodeJS.ProcessEnv,
  stdin?: string,
) => Promise<{ code: number; stdout: string }>;

const SECRETS_KEPT_FROM_WRANGLER = ["OPENHANDS_API_KEY", "SETUP_TOKEN"];

export function wranglerProcess(options: WranglerOptions = {}): RunWrangler {
  const require = createRequire(import.meta.url);
  const command = options.command ?? [
    process.execPath,
    join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js"),
  ];
  const cwd = options.cwd ?? fileURLToPath(new URL("..", import.meta.url));
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), WRANGLER_LOG_SANITIZE: "true" };
  for (const name of SECRETS_KEPT_FROM_WRANGLER) delete env[name];

  return (args, stdio, extraEnv = {}, stdin) =>
    new Promise((resolve, reject) => {
      const child = spawn(command[0]!, [...command.slice(1), ...args], { cwd, env: { ...env, ...extraEnv }, stdio });
      let stdout = "";
      child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.once("error", reject);
      child.once("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout }));
      if (stdin !== undefined) {
        // A wrangler that exits before reading would otherwise crash us with EPIPE; its exit code tells.
        child.stdin!.on("error", () => {});
        child.stdin!.end(stdin);
      }
    });
}

/** `wrangler secret put NAME` with the value on stdin (not a TTY, so wrangler reads it instead of prompting). */
export async function putSecret(run: RunWrangler, name: string, value: string): Promise<number> {
  const { code } = await run(["secret", "put", name], ["pipe", "inherit", "inherit"], {}, value);
  return code;
}
