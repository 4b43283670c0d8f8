/**
 * `npm run deploy` (scripts/deploy.ts) without Cloudflare: its decisions against a scripted wrangler,
 * and its real process handling against a stand-in wrangler executable.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  deploy,
  parseDeployOutput,
  parseSecretList,
  planSecrets,
  type Wrangler,
  wranglerCli,
} from "../../scripts/deploy";

const URL = "https://openhands-github-app.acme.workers.dev";
const API_KEY = "oh_test_key_4f9c2a7d1e";
const TOKEN = "a".repeat(64);

/** What wrangler 4.86 writes to WRANGLER_OUTPUT_FILE_PATH for a deploy (src: triggersDeploy, writeOutput). */
function deployOutput(targets: string[] | undefined): string {
  const session = { type: "wrangler-session", version: 1, wrangler_version: "4.86.0", command_line_args: ["deploy"] };
  const entry = {
    type: "deploy",
    version: 1,
    worker_name: "openhands-github-app",
    worker_tag: "t1",
    version_id: "v1",
    targets,
  };
  return `${JSON.stringify(session)}\n${JSON.stringify(entry)}\n`;
}

function secretList(names: string[]): string {
  return `${JSON.stringify(
    names.map((name) => ({ name, type: "secret_text" })),
    null,
    "  ",
  )}\n`;
}

/** A scripted wrangler that records what it was asked. */
function fakeWrangler(
  over: { deployCode?: number; output?: string; listCode?: number; listed?: string; putCode?: number } = {},
) {
  const calls: string[] = [];
  const puts: { name: string; value: string }[] = [];
  const wrangler: Wrangler = {
    async deploy() {
      calls.push("deploy");
      return { code: over.deployCode ?? 0, output: over.output ?? deployOutput([URL, "schedule: */3 * * * *"]) };
    },
    async secretList() {
      calls.push("secret list");
      return { code: over.listCode ?? 0, stdout: over.listed ?? secretList([]) };
    },
    async secretPut(name, value) {
      calls.push(`secret put ${name}`);
      puts.push({ name, value });
      return over.putCode ?? 0;
    },
  };
  return { wrangler, calls, puts };
}

async function run(fake: ReturnType<typeof fakeWrangler>, env: Record<string, string | undefined> = {}) {
  const lines: string[] = [];
  const code = await deploy({ wrangler: fake.wrangler, env, log: (line) => lines.push(line), newToken: () => TOKEN });
  return { code, out: lines.join("\n") };
}

describe("reading wrangler's output", () => {
  it("takes the workers.dev URL from the deploy entry's targets", () => {
    expect(parseDeployOutput(deployOutput([URL, "schedule: */3 * * * *"]))).toEqual({
      url: URL,
      targets: [URL, "schedule: */3 * * * *"],
    });
  });

  it("reports no URL when the Worker is only on routes, or the output is missing or cut short", () => {
    expect(parseDeployOutput(deployOutput(["bot.example.com/*", "schedule: */3 * * * *"])).url).toBeUndefined();
    expect(parseDeployOutput(deployOutput(undefined))).toEqual({ url: undefined, targets: [] }); // --dry-run writes no targets
    expect(parseDeployOutput("")).toEqual({ url: undefined, targets: [] });
    expect(parseDeployOutput('{"type":"deploy","targets":["https://x.y.workers')).toEqual({
      url: undefined,
      targets: [],
    });
  });

  it("uses the last deploy of the file", () => {
    const older = deployOutput(["https://old.acme.workers.dev"]);
    expect(parseDeployOutput(older + deployOutput([URL])).url).toBe(URL);
  });

  it("reads the secret names from `wrangler secret list`, and refuses anything else", () => {
    expect(parseSecretList(secretList(["OPENHANDS_API_KEY", "SETUP_TOKEN"]))).toEqual([
      "OPENHANDS_API_KEY",
      "SETUP_TOKEN",
    ]);
    expect(parseSecretList("[]\n")).toEqual([]);
    expect(parseSecretList(`a notice first\n${secretList(["SETUP_TOKEN"])}`)).toEqual(["SETUP_TOKEN"]);
    for (const bad of ["", "Not logged in.", "[not json", '[{"title":"SETUP_TOKEN"}]', '{"name":"SETUP_TOKEN"}']) {
      expect(() => parseSecretList(bad)).toThrow(/did not print a JSON list/);
    }
  });
});

describe("deciding what to set", () => {
  it("creates SETUP_TOKEN only when the Worker has none", () => {
    expect(planSecrets([], {}).createSetupToken).toBe(true);
    expect(planSecrets(["OPENHANDS_API_KEY"], {}).createSetupToken).toBe(true);
    expect(planSecrets(["SETUP_TOKEN"], {}).createSetupToken).toBe(false);
  });

  it("sets OPENHANDS_API_KEY only when given, and says when the Worker has none", () => {
    expect(planSecrets([], { OPENHANDS_API_KEY: ` ${API_KEY}\n` })).toMatchObject({
      apiKey: API_KEY,
      apiKeyMissing: false,
    });
    expect(planSecrets([], { OPENHANDS_API_KEY: "  " })).toMatchObject({ apiKey: undefined, apiKeyMissing: true });
    expect(planSecrets(["OPENHANDS_API_KEY"], {})).toMatchObject({ apiKey: undefined, apiKeyMissing: false });
  });
});

describe("npm run deploy", () => {
  it("on a new Worker: deploys, sets the API key and a new SETUP_TOKEN, and prints the setup link once", async () => {
    const fake = fakeWrangler();
    const { code, out } = await run(fake, { OPENHANDS_API_KEY: API_KEY });
    expect(code).toBe(0);
    expect(fake.calls).toEqual(["deploy", "secret list", "secret put OPENHANDS_API_KEY", "secret put SETUP_TOKEN"]);
    expect(fake.puts).toEqual([
      { name: "OPENHANDS_API_KEY", value: API_KEY },
      { name: "SETUP_TOKEN", value: TOKEN },
    ]);
    expect(out).toContain(`Worker: ${URL}`);
    expect(out).toContain(`${URL}/setup?token=${TOKEN}`);
    expect(out).not.toContain(API_KEY);
  });

  it("generates 32 random bytes in hex by default", async () => {
    const fake = fakeWrangler();
    await deploy({ wrangler: fake.wrangler, env: {}, log: () => {} });
    const again = fakeWrangler();
    await deploy({ wrangler: again.wrangler, env: {}, log: () => {} });
    const [first, second] = [fake.puts[0]!.value, again.puts[0]!.value];
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toMatch(/^[0-9a-f]{64}$/);
    expect(first).not.toBe(second);
  });

  it("keeps an existing SETUP_TOKEN, prints no token, and says how to find or reset it", async () => {
    const fake = fakeWrangler({ listed: secretList(["OPENHANDS_API_KEY", "SETUP_TOKEN"]) });
    const { code, out } = await run(fake);
    expect(code).toBe(0);
    expect(fake.calls).toEqual(["deploy", "secret list"]);
    expect(out).toContain(`${URL}/setup?token=<SETUP_TOKEN>`);
    expect(out).toContain("SETUP_TOKEN is already set (kept)");
    expect(out).toContain("Lost it before creating the App?");
    expect(out).toContain("npx wrangler secret delete SETUP_TOKEN && npm run deploy");
    expect(out).toContain("Once the App exists, /setup is closed");
    expect(out).toContain("OPENHANDS_API_KEY already set");
    expect(out).not.toContain(TOKEN);
  });

  it("replaces the API key when one is given, even if the Worker has one", async () => {
    const fake = fakeWrangler({ listed: secretList(["OPENHANDS_API_KEY", "SETUP_TOKEN"]) });
    await run(fake, { OPENHANDS_API_KEY: API_KEY });
    expect(fake.calls).toEqual(["deploy", "secret list", "secret put OPENHANDS_API_KEY"]);
  });

  it("warns when the Worker has no API key and none is given", async () => {
    const { out } = await run(fakeWrangler());
    expect(out).toContain("The Worker has no OPENHANDS_API_KEY: run `OPENHANDS_API_KEY=… npm run deploy`");
  });

  it("stops after a failed deploy, with its exit code, and sets nothing", async () => {
    const fake = fakeWrangler({ deployCode: 3 });
    const { code, out } = await run(fake, { OPENHANDS_API_KEY: API_KEY });
    expect(code).toBe(3);
    expect(fake.calls).toEqual(["deploy"]);
    expect(out).toContain("wrangler deploy failed (exit 3)");
  });

  it("sets no secret when the list cannot be read: a guess could replace SETUP_TOKEN", async () => {
    for (const over of [{ listCode: 1, listed: "" }, { listed: "✘ [ERROR] A request to the Cloudflare API failed." }]) {
      const fake = fakeWrangler(over);
      const { code, out } = await run(fake, { OPENHANDS_API_KEY: API_KEY });
      expect(code).toBe(1);
      expect(fake.calls).toEqual(["deploy", "secret list"]);
      expect(out).toContain("its secrets could not be listed, so none was set");
    }
  });

  it("fails when a secret cannot be set, without printing a link to a token that was not stored", async () => {
    const fake = fakeWrangler({ putCode: 1 });
    const { code, out } = await run(fake);
    expect(code).toBe(1);
    expect(out).toContain("Setting SETUP_TOKEN failed");
    expect(out).not.toContain(TOKEN);
  });

  it("without a workers.dev URL still prints the new token, on a placeholder host", async () => {
    const fake = fakeWrangler({ output: deployOutput(["bot.example.com/*", "schedule: */3 * * * *"]) });
    const { code, out } = await run(fake);
    expect(code).toBe(0);
    expect(out).toContain("wrangler reported no workers.dev URL (targets: bot.example.com/*, schedule: */3 * * * *)");
    expect(out).toContain(`https://<your-worker-host>/setup?token=${TOKEN}`);
  });
});

describe("the real wrangler calls, against a stand-in wrangler", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A `wrangler` that records its arguments, environment and stdin, and answers like 4.86. */
  function standIn() {
    dir = mkdtempSync(join(tmpdir(), "deploy-test-"));
    const record = join(dir, "calls.ndjson");
    const script = join(dir, "wrangler.mjs");
    writeFileSync(
      script,
      `
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
const args = process.argv.slice(2);
const stdin = args[0] === "secret" && args[1] === "put" ? readFileSync(0, "utf8") : null;
const env = Object.fromEntries(["OPENHANDS_API_KEY", "SETUP_TOKEN", "WRANGLER_LOG_SANITIZE"].map((n) => [n, process.env[n] ?? null]));
appendFileSync(${JSON.stringify(record)}, JSON.stringify({ args, stdin, env, outputFile: process.env.WRANGLER_OUTPUT_FILE_PATH ?? null }) + "\\n");
// Only the list's stdout is read; what deploy and put print goes to the terminal, so they print nothing here.
if (args[0] === "deploy") writeFileSync(process.env.WRANGLER_OUTPUT_FILE_PATH, ${JSON.stringify(deployOutput([URL, "schedule: */3 * * * *"]))});
if (args[0] === "secret" && args[1] === "list") console.log(${JSON.stringify(secretList(["OPENHANDS_API_KEY"]))});
`,
    );
    const calls = () =>
      readFileSync(record, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
    return { script, calls };
  }

  it("passes secrets on stdin only, keeps them out of wrangler's environment, and reads the URL from its output file", async () => {
    const { script, calls } = standIn();
    const env = {
      ...process.env,
      OPENHANDS_API_KEY: API_KEY,
      SETUP_TOKEN: "from-the-shell",
      WRANGLER_LOG_SANITIZE: "false",
    };
    const wrangler = wranglerCli({ command: [process.execPath, script], env });
    const lines: string[] = [];
    const code = await deploy({ wrangler, env, log: (line) => lines.push(line), newToken: () => TOKEN });

    expect(code).toBe(0);
    const recorded = calls();
    expect(recorded.map((c) => c.args.join(" "))).toEqual([
      "deploy",
      "secret list --format json",
      "secret put OPENHANDS_API_KEY",
      "secret put SETUP_TOKEN",
    ]);
    expect(recorded.map((c) => c.stdin)).toEqual([null, null, API_KEY, TOKEN]);
    for (const call of recorded) {
      expect(call.env).toEqual({ OPENHANDS_API_KEY: null, SETUP_TOKEN: null, WRANGLER_LOG_SANITIZE: "true" });
      expect(JSON.stringify(call.args)).not.toContain(API_KEY);
      expect(JSON.stringify(call.args)).not.toContain(TOKEN);
    }
    // The output file lived in a temporary folder that is gone now.
    expect(() => readFileSync(recorded[0].outputFile)).toThrow();
    expect(lines.join("\n")).toContain(`${URL}/setup?token=${TOKEN}`);
  });

  it("passes a failed wrangler deploy's exit code on", async () => {
    const wrangler = wranglerCli({ command: [process.execPath, "-e", "process.exit(7)"] });
    expect(await deploy({ wrangler, env: {}, log: () => {} })).toBe(7);
  });
});
