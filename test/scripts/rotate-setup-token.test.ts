/**
 * `npm run rotate-setup-token` (scripts/rotate-setup-token.ts) without Cloudflare: its steps against
 * a scripted wrangler that keeps the Worker's KV and secret, checking after every call that the
 * Worker could still open its App credentials; and its real process handling against a stand-in
 * wrangler executable.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseKeyList, type RotationWrangler, rotate, rotationWranglerCli } from "../../scripts/rotate-setup-token";
import { seal, unseal } from "../../src/setup/sealing";

const OLD = "o".repeat(64);
const NEW = "a1".repeat(32);
const CREDENTIALS = JSON.stringify({
  appId: "123",
  privateKey: "-----BEGIN RSA PRIVATE KEY-----\nMIIE…\n-----END RSA PRIVATE KEY-----\n",
  webhookSecret: "whsec_0123456789abcdef",
  slug: "acme-openhands",
  owner: "acme",
});

/** The Worker's KV and secret, as Cloudflare holds them, behind the wrangler calls the script makes. */
function cloudflare(over: { failPut?: string; failSecret?: boolean; failList?: boolean } = {}) {
  const kv = new Map<string, { value: string; ttl?: number }>();
  const state = { secret: OLD };
  const calls: string[] = [];
  /** After every call: could a cold isolate with the live secret open the credentials, as src/setup/credentials.ts does? */
  const workerOpened: (string | undefined)[] = [];
  const workerOpens = async () => {
    const main = kv.get("app:credentials")?.value;
    if (main === undefined) return undefined;
    const next = kv.get("app:credentials:next")?.value;
    return (await unseal(state.secret, main)) ?? (next === undefined ? undefined : await unseal(state.secret, next));
  };
  const after = async <T>(call: string, result: T): Promise<T> => {
    calls.push(call);
    workerOpened.push(await workerOpens());
    return result;
  };
  const wrangler: RotationWrangler = {
    async kvKeys(prefix) {
      if (over.failList) return after(`kv list ${prefix}`, { code: 1, stdout: "" });
      const names = [...kv.keys()].filter((k) => k.startsWith(prefix)).map((name) => ({ name }));
      return after(`kv list ${prefix}`, { code: 0, stdout: `${JSON.stringify(names, null, 2)}\n` });
    },
    async kvGet(key) {
      return after(`kv get ${key}`, { code: 0, stdout: kv.get(key)?.value ?? "" });
    },
    async kvPut(key, value, ttl) {
      if (over.failPut === key) return after(`kv put ${key}${ttl ? ` ttl ${ttl}` : ""}`, 1);
      kv.set(key, { value, ttl });
      return after(`kv put ${key}${ttl ? ` ttl ${ttl}` : ""}`, 0);
    },
    async secretPut(name, value) {
      if (over.failSecret) return after(`secret put ${name}`, 1);
      state.secret = value;
      return after(`secret put ${name}`, 0);
    },
  };
  return { kv, state, calls, workerOpened, wrangler, workerOpens };
}

async function run(cf: ReturnType<typeof cloudflare>, current: string, token = NEW) {
  const lines: string[] = [];
  let asked = 0;
  const code = await rotate({
    wrangler: cf.wrangler,
    currentToken: async () => {
      asked++;
      return current;
    },
    log: (line) => lines.push(line),
    newToken: () => token,
  });
  return { code, out: lines.join("\n"), asked };
}

async function setUp(cf: ReturnType<typeof cloudflare>, token = OLD) {
  cf.kv.set("app:credentials", { value: await seal(token, CREDENTIALS) });
}

describe("npm run rotate-setup-token", () => {
  it("re-seals the credentials under a new token and sets it, the Worker able to open them after every step", async () => {
    const cf = cloudflare();
    await setUp(cf);
    const { code, out } = await run(cf, OLD);
    expect(code).toBe(0);
    expect(cf.calls).toEqual([
      "kv list app:credentials",
      "kv get app:credentials",
      "kv put app:credentials:next ttl 86400",
      "secret put SETUP_TOKEN",
      "kv put app:credentials",
    ]);
    expect(cf.workerOpened).toEqual(cf.calls.map(() => CREDENTIALS));
    expect(cf.state.secret).toBe(NEW);
    // Only the new token opens what is stored now.
    for (const key of ["app:credentials", "app:credentials:next"]) {
      expect(await unseal(NEW, cf.kv.get(key)!.value)).toBe(CREDENTIALS);
      expect(await unseal(OLD, cf.kv.get(key)!.value)).toBeUndefined();
    }
    expect(out).toContain("✔ SETUP_TOKEN replaced, and the App credentials re-sealed under it.");
    expect(out).toContain(`\n  ${NEW}\n`);
    expect(out).not.toContain(OLD);
    expect(out).not.toContain("BEGIN RSA");
  });

  it("generates 32 random bytes in hex by default", async () => {
    const cf = cloudflare();
    await setUp(cf);
    await rotate({ wrangler: cf.wrangler, currentToken: async () => OLD, log: () => {} });
    expect(cf.state.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(cf.state.secret).not.toBe(OLD);
  });

  it("a token that does not open the credentials changes nothing", async () => {
    const cf = cloudflare();
    await setUp(cf);
    const { code, out } = await run(cf, "not-the-token");
    expect(code).toBe(1);
    expect(cf.calls).toEqual(["kv list app:credentials", "kv get app:credentials"]);
    expect(cf.state.secret).toBe(OLD);
    expect(out).toContain("That token does not open the App credentials the Worker stored");
    expect(out).toContain("GITHUB_APP_PRIVATE_KEY");
  });

  it("repairs a Worker whose SETUP_TOKEN was changed by hand, given the token the credentials were sealed with", async () => {
    const cf = cloudflare();
    await setUp(cf);
    cf.state.secret = "changed-by-hand-".repeat(3);
    expect(await cf.workerOpens()).toBeUndefined();
    expect((await run(cf, OLD)).code).toBe(0);
    expect(await cf.workerOpens()).toBe(CREDENTIALS);
  });

  it("before the App exists: sets a new token without asking for the old one, and prints the new setup link", async () => {
    const cf = cloudflare();
    // A rotation copy without the main one (the operator deleted app:credentials to start over) is not brought back.
    cf.kv.set("app:credentials:next", { value: await seal(OLD, CREDENTIALS) });
    const { code, out, asked } = await run(cf, OLD);
    expect(code).toBe(0);
    expect(asked).toBe(0);
    expect(cf.calls).toEqual(["kv list app:credentials", "secret put SETUP_TOKEN"]);
    expect(cf.state.secret).toBe(NEW);
    expect(out).toContain(`/setup?token=${NEW}`);
    expect(cf.kv.has("app:credentials")).toBe(false);
  });

  it("a failed secret put leaves the Worker on its token and its credentials", async () => {
    const cf = cloudflare({ failSecret: true });
    await setUp(cf);
    const { code, out } = await run(cf, OLD);
    expect(code).toBe(1);
    expect(cf.state.secret).toBe(OLD);
    expect(await unseal(OLD, cf.kv.get("app:credentials")!.value)).toBe(CREDENTIALS);
    expect(cf.workerOpened.every((opened) => opened === CREDENTIALS)).toBe(true);
    expect(out).toContain("Setting SETUP_TOKEN failed; the Worker keeps its token");
    expect(out).not.toContain(NEW);
  });

  it("a failed re-seal of the main copy: the Worker opens the rotation copy, the new token is shown, and running again finishes", async () => {
    const cf = cloudflare({ failPut: "app:credentials" });
    await setUp(cf);
    const first = await run(cf, OLD);
    expect(first.code).toBe(1);
    expect(cf.state.secret).toBe(NEW);
    expect(cf.workerOpened.every((opened) => opened === CREDENTIALS)).toBe(true);
    expect(first.out).toContain(`\n  ${NEW}\n`);
    expect(first.out).toContain("run `npm run rotate-setup-token` again before then, with the new token above");

    const retry = cloudflare();
    for (const [key, entry] of cf.kv) retry.kv.set(key, entry);
    retry.state.secret = NEW;
    const newer = "b2".repeat(32);
    expect((await run(retry, NEW, newer)).code).toBe(0);
    expect(retry.calls).toEqual([
      "kv list app:credentials",
      "kv get app:credentials",
      "kv get app:credentials:next",
      "kv put app:credentials", // finishes the first rotation before the rotation copy is replaced
      "kv put app:credentials:next ttl 86400",
      "secret put SETUP_TOKEN",
      "kv put app:credentials",
    ]);
    expect(await unseal(newer, retry.kv.get("app:credentials")!.value)).toBe(CREDENTIALS);
    expect(retry.workerOpened.every((opened) => opened === CREDENTIALS)).toBe(true);
  });

  it("changes nothing when the KV cannot be listed", async () => {
    const cf = cloudflare({ failList: true });
    await setUp(cf);
    const { code, out } = await run(cf, OLD);
    expect(code).toBe(1);
    expect(cf.state.secret).toBe(OLD);
    expect(out).toContain("could not be read, so nothing was changed");
    expect(() => parseKeyList("✘ [ERROR] A request to the Cloudflare API failed.")).toThrow(
      /did not print a JSON list/,
    );
    expect(parseKeyList('a notice\n[\n  { "name": "app:credentials" }\n]\n')).toEqual(["app:credentials"]);
  });
});

describe("the real wrangler calls, against a stand-in wrangler", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("reads and writes the Worker's remote TASKS namespace, the secret on stdin only, the values from a file", async () => {
    dir = mkdtempSync(join(tmpdir(), "rotate-test-"));
    const record = join(dir, "calls.ndjson");
    const script = join(dir, "wrangler.mjs");
    const sealed = await seal(OLD, CREDENTIALS);
    writeFileSync(
      script,
      `
import { appendFileSync, readFileSync } from "node:fs";
const args = process.argv.slice(2);
const stdin = args[0] === "secret" && args[1] === "put" ? readFileSync(0, "utf8") : null;
const path = args.includes("--path") ? args[args.indexOf("--path") + 1] : null;
const file = path ? readFileSync(path, "utf8") : null;
const env = Object.fromEntries(["SETUP_TOKEN", "OPENHANDS_API_KEY", "WRANGLER_LOG_SANITIZE"].map((n) => [n, process.env[n] ?? null]));
appendFileSync(${JSON.stringify(record)}, JSON.stringify({ args, stdin, file, env }) + "\\n");
if (args[2] === "list") console.log(JSON.stringify([{ name: "app:credentials" }], null, 2));
if (args[2] === "get") process.stdout.write(${JSON.stringify(sealed)});
`,
    );
    const wrangler = rotationWranglerCli({
      command: [process.execPath, script],
      env: { ...process.env, SETUP_TOKEN: OLD, OPENHANDS_API_KEY: "oh_key", WRANGLER_LOG_SANITIZE: "false" },
    });
    const code = await rotate({ wrangler, currentToken: async () => OLD, log: () => {}, newToken: () => NEW });
    expect(code).toBe(0);

    const calls = readFileSync(record, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const remote = ["--binding", "TASKS", "--remote"];
    expect(calls.map((c) => c.args.map((a: string) => (a.includes("openhands-rotate-") ? "<file>" : a)))).toEqual([
      ["kv", "key", "list", "--prefix", "app:credentials", ...remote],
      ["kv", "key", "get", "app:credentials", ...remote],
      ["kv", "key", "put", "app:credentials:next", "--path", "<file>", ...remote, "--ttl", "86400"],
      ["secret", "put", "SETUP_TOKEN"],
      ["kv", "key", "put", "app:credentials", "--path", "<file>", ...remote],
    ]);
    expect(calls[3].stdin).toBe(NEW);
    for (const put of [calls[2], calls[4]]) expect(await unseal(NEW, put.file)).toBe(CREDENTIALS);
    for (const call of calls) {
      expect(call.env).toEqual({ SETUP_TOKEN: null, OPENHANDS_API_KEY: null, WRANGLER_LOG_SANITIZE: "true" });
      expect(JSON.stringify(call.args)).not.toContain(NEW);
      expect(JSON.stringify(call.args)).not.toContain(OLD);
    }
    // The value files lived in temporary folders that are gone now.
    expect(() => readFileSync(calls[2].args[calls[2].args.indexOf("--path") + 1])).toThrow();
  });
});
