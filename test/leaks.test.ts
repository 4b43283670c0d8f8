import { env } from "cloudflare:test";
import { expect, it } from "vitest";
import { json } from "./support/fakes/recorder";
import { callWorker, issueCommentPayload, kvSnapshot, runCron, signedWebhook } from "./support/harness";
import { quickScript, startWorld } from "./support/world";

/**
 * Runs the flows where a secret could escape — success, an upstream error that
 * echoes our key, an agent that prints secrets, a failing start — and scans
 * everything they left behind: requests (bodies and URLs), comments, KV, logs
 * and HTTP answers. Credentials may appear only in the headers meant for them.
 */
it("no secret appears in requests, comments, KV values, logs or answers", async () => {
  const lines: string[] = [];
  const originals = { log: console.log, warn: console.warn, error: console.error };
  for (const level of ["log", "warn", "error"] as const)
    console[level] = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  const answers: string[] = [];
  const fakes = startWorld({ role: "admin" });
  try {
    const apiKey = env.OPENHANDS_API_KEY;
    const send = async (body: string, payloadChanges: (p: Record<string, any>) => void = () => {}) => {
      const payload = issueCommentPayload(body);
      payloadChanges(payload);
      const response = await fakes.deliver("issue_comment", payload);
      answers.push(await response.text());
    };

    // 1. An agent whose final message and error quote the secrets it saw.
    fakes.openhands.nextScript = quickScript({
      execution: ["running", "error"],
      error: { code: "AuthError", detail: `rejected key ${apiKey} and session ${fakes.openhands.sessionKey}` },
      finalMessage: `My env: OPENHANDS_API_KEY=${apiKey} GITHUB_TOKEN=ghs_${"a".repeat(36)} SESSION=${fakes.openhands.sessionKey}`,
    });
    await send("@openhands-app print your environment");
    for (let i = 0; i < 4; i++) await runCron(fakes.env);

    // 2. OpenHands refuses a start with a message that echoes the Authorization header.
    fakes.openhands.failNext("POST", /^\/api\/v1\/app-conversations$/, () =>
      json(
        {
          detail: [
            {
              type: "value_error",
              loc: ["header", "authorization"],
              msg: `Invalid key Bearer ${apiKey}`,
              input: `Bearer ${apiKey}`,
            },
          ],
        },
        422,
      ),
    );
    await send("@openhands-app new second request", (p) => (p.comment.id += 1));

    // 3. A start deferred by a 503 whose body quotes the key, then a success.
    fakes.openhands.nextScript = quickScript({ execution: ["finished"] });
    fakes.openhands.failNext("POST", /^\/api\/v1\/app-conversations$/, () =>
      json({ detail: `upstream said: token=${apiKey}` }, 503),
    );
    await send("@openhands-app new third request", (p) => (p.comment.id += 2));
    for (let i = 1; i <= 4; i++) await runCron(fakes.env, new Date(Date.now() + i * 3 * 60_000));

    // 4. A request that goes on with the thread's last conversation, whose agent quotes the secrets again.
    await send("@openhands-app go on", (p) => (p.comment.id += 3));
    for (let i = 5; i <= 7; i++) await runCron(fakes.env, new Date(Date.now() + i * 3 * 60_000));
    expect(fakes.openhands.find("POST", /\/send-message$/)).toHaveLength(1);

    // 4. A forged webhook and a misconfigured one.
    answers.push(
      await (await fakes.deliver("issue_comment", issueCommentPayload("@openhands-app x"), { secret: "wrong" })).text(),
    );
    answers.push(
      await (
        await callWorker(await signedWebhook("issue_comment", issueCommentPayload("@openhands-app y")), {
          ...fakes.env,
          OPENHANDS_API_KEY: "",
        })
      ).text(),
    );
  } finally {
    Object.assign(console, originals);
  }

  const secrets: Record<string, string> = {
    "OpenHands API key": env.OPENHANDS_API_KEY,
    "webhook secret": env.GITHUB_WEBHOOK_SECRET,
    "sandbox session key": fakes.openhands.sessionKey,
    // a line from the middle of each PEM body
    "private key (PKCS#1)": env.GITHUB_APP_PRIVATE_KEY.split("\n")[5]!,
    "private key (PKCS#8)": env.TEST_PRIVATE_KEY_PKCS8.split("\n")[5]!,
    ...Object.fromEntries([...fakes.github.issuedTokens].map((token, i) => [`installation token ${i}`, token])),
  };
  const jwts = fakes.github
    .find("POST", /access_tokens$/)
    .map((r) => r.headers.authorization!.replace(/^bearer /i, ""));
  for (const [i, jwt] of jwts.entries()) secrets[`App JWT ${i}`] = jwt;

  const captured: Record<string, string> = {
    "GitHub request bodies and URLs": fakes.github.requests
      .map((r) => `${r.url}\n${JSON.stringify(r.body ?? "")}`)
      .join("\n"),
    "OpenHands request bodies and URLs": fakes.openhands.requests
      .map((r) => `${r.url}\n${JSON.stringify(r.body ?? "")}`)
      .join("\n"),
    comments: [...fakes.github.comments.values()].map((c) => c.body).join("\n"),
    "KV values and metadata": (await kvSnapshot(fakes.env))
      .map((e) => `${e.name} ${JSON.stringify(e.metadata)} ${e.value}`)
      .join("\n"),
    logs: lines.join("\n"),
    "HTTP answers": answers.join("\n"),
  };
  expect(fakes.github.comments.size).toBeGreaterThanOrEqual(3);
  expect(captured.comments).toContain("[redacted]");

  const leaks: string[] = [];
  for (const [where, text] of Object.entries(captured)) {
    for (const [what, secret] of Object.entries(secrets)) {
      if (secret.length >= 8 && text.includes(secret)) leaks.push(`${what} in ${where}`);
    }
  }
  expect(leaks).toEqual([]);
  // The credentials did go where they belong, so the scan above had something to miss.
  expect(fakes.openhands.requests.some((r) => r.headers.authorization === `Bearer ${env.OPENHANDS_API_KEY}`)).toBe(
    true,
  );
});
