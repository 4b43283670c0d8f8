import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callWorker, startFakes, type TestEnv } from "./harness";

const STATUS_TOKEN = "status-token-for-tests-5d1c0e7b9a";

function get(path: string, testEnv: TestEnv, headers: Record<string, string> = {}): Promise<Response> {
  return callWorker(new Request(`https://worker.example${path}`, { headers }), testEnv);
}

/** Every secret the test env holds, and the token: none may appear in an answer. */
function expectNoSecret(text: string, extra: string[] = []): void {
  const secrets = [
    env.OPENHANDS_API_KEY,
    env.GITHUB_WEBHOOK_SECRET,
    // a line from the middle of each PEM body
    env.GITHUB_APP_PRIVATE_KEY.split("\n")[5]!,
    env.TEST_PRIVATE_KEY_PKCS8.split("\n")[5]!,
    STATUS_TOKEN,
    ...extra,
  ];
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe("GET /healthz", () => {
  it("answers 200 when the configuration is complete and KV answers, and names no secret", async () => {
    const { env: testEnv } = startFakes();
    const response = await get("/healthz", testEnv);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ ok: true, service: "openhands-github-app", checks: { config: "ok", kv: "ok" } });
    expectNoSecret(text);
  });

  it("answers 503 naming OPENHANDS_API_KEY when it is empty", async () => {
    const { env: testEnv } = startFakes({ OPENHANDS_API_KEY: "" });
    const response = await get("/healthz", testEnv);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toEqual({
      ok: false,
      service: "openhands-github-app",
      checks: { config: "invalid", kv: "ok" },
      problems: ["OPENHANDS_API_KEY is not set"],
    });
    expectNoSecret(text);
  });

  it("answers 503 naming a malformed GITHUB_APP_PRIVATE_KEY, and never echoes what was pasted", async () => {
    const pasted = [
      "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7pasted-the-wrong-key operator@laptop",
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4\n-----END RSA PRIVATE KEY-----",
    ];
    const answers = [];
    for (const key of pasted) {
      const { env: testEnv } = startFakes({ GITHUB_APP_PRIVATE_KEY: key });
      const response = await get("/healthz", testEnv);
      const text = await response.text();
      expect(response.status).toBe(503);
      const body = JSON.parse(text);
      expect(body.ok).toBe(false);
      expect(body.problems).toHaveLength(1);
      expect(body.problems[0]).toMatch(/^GITHUB_APP_PRIVATE_KEY (is not a PEM private key|has a PEM header but its body is not valid base64)/);
      expectNoSecret(text, ["AAAAB3NzaC1yc2E", "operator@laptop", "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4"]);
      answers.push(body.problems[0]);
    }
    expect(answers[0]).toContain("is not a PEM private key");
    expect(answers[1]).toContain("not valid base64");
  });

  it("answers 503 when KV fails a read, and when it does not answer within two seconds", async () => {
    const failing = new Proxy(env.TASKS, {
      get: (target, property) =>
        property === "get" ? () => Promise.reject(new Error(`KV GET failed: 503 for token ${env.OPENHANDS_API_KEY}`)) : Reflect.get(target, property),
    });
    const { env: failingEnv } = startFakes({ TASKS: failing });
    const response = await get("/healthz", failingEnv);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toEqual({
      ok: false,
      service: "openhands-github-app",
      checks: { config: "ok", kv: "unavailable" },
      problems: ["KV namespace TASKS failed a read"],
    });
    expectNoSecret(text);

    const silent = new Proxy(env.TASKS, {
      get: (target, property) => (property === "get" ? () => new Promise(() => {}) : Reflect.get(target, property)),
    });
    const { env: silentEnv } = startFakes({ TASKS: silent });
    const slow = await get("/healthz", silentEnv);
    expect(slow.status).toBe(503);
    expect((await slow.json<{ problems: string[] }>()).problems).toEqual(["KV namespace TASKS did not answer a read within 2 s"]);
  });

  it("stays ready with a STATUS_TOKEN too short to be safe, and says /status is off", async () => {
    const { env: testEnv } = startFakes({ STATUS_TOKEN: "short-token" });
    const response = await get("/healthz", testEnv);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      ok: true,
      warnings: ["STATUS_TOKEN must be at least 16 characters; GET /status is off until it is"],
    });
    expect((await get("/status", testEnv, { authorization: "Bearer short-token" })).status).toBe(404);
  });
});
