import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { normalizePrivateKey, PrivateKeyError } from "../src/github/private-key";
import { startWorld } from "./support/world";

async function tokenExchangeWith(privateKey: string) {
  const world = startWorld({ env: { GITHUB_APP_PRIVATE_KEY: privateKey } });
  await world.comment("@openhands-app fix");
  return world.github.find("POST", /^\/app\/installations\/\d+\/access_tokens$/);
}

describe("the App's private key", () => {
  it("works in PKCS#1 form, as GitHub hands it out", async ({ expect }) => {
    expect(env.GITHUB_APP_PRIVATE_KEY).toContain("-----BEGIN RSA PRIVATE KEY-----");
    const exchanges = await tokenExchangeWith(env.GITHUB_APP_PRIVATE_KEY!);
    expect(exchanges).toHaveLength(1);
    // the fake verified the JWT's RS256 signature with the App's public key and issued a token
    expect(exchanges[0]!.headers.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/i);
  });

  it("works in PKCS#8 form", async () => {
    const exchanges = await tokenExchangeWith(env.TEST_PRIVATE_KEY_PKCS8);
    expect(exchanges).toHaveLength(1);
  });

  it.each(["GITHUB_APP_PRIVATE_KEY", "TEST_PRIVATE_KEY_PKCS8"] as const)(
    "works pasted on one line with literal \\n escapes (%s)",
    async (name) => {
      const oneLine = env[name]!.trim().replace(/\n/g, "\\n");
      expect(oneLine).not.toContain("\n");
      expect(await tokenExchangeWith(oneLine)).toHaveLength(1);
    },
  );

  it("converts PKCS#1 to a PKCS#8 key WebCrypto imports", async () => {
    const pkcs8 = normalizePrivateKey(env.GITHUB_APP_PRIVATE_KEY!);
    expect(pkcs8).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const der = Uint8Array.from(atob(pkcs8.replace(/-----[^-]+-----|\s/g, "")), (c) => c.charCodeAt(0));
    const key = await crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, [
      "sign",
    ]);
    expect(key.type).toBe("private");
    // same key as the PKCS#8 export of the same pair
    expect(pkcs8.replace(/\s/g, "")).toBe(normalizePrivateKey(env.TEST_PRIVATE_KEY_PKCS8).replace(/\s/g, ""));
  });

  it("rejects something that is not a PEM key with an error that does not echo it", () => {
    const secretish = "definitely-not-a-key-but-secret-material";
    expect(() => normalizePrivateKey(secretish)).toThrow(PrivateKeyError);
    try {
      normalizePrivateKey(secretish);
    } catch (error) {
      expect((error as Error).message).not.toContain(secretish);
    }
  });

  it("a key that is not PEM is a configuration error: 500, named in the log, nothing started", async () => {
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => logged.push(line);
    const fakes = startWorld({ env: { GITHUB_APP_PRIVATE_KEY: "ghp_not_a_key_at_all_0123456789abcdef" } });
    try {
      const response = await fakes.comment("@openhands-app fix");
      expect(response.status).toBe(500);
    } finally {
      console.error = original;
    }
    expect(logged.join("\n")).toContain("GITHUB_APP_PRIVATE_KEY is not a PEM private key");
    expect(logged.join("\n")).not.toContain("ghp_not_a_key");
    expect(fakes.github.requests).toEqual([]);
    expect(fakes.openhands.requests).toEqual([]);
  });
});
