import { beforeEach, describe, expect, it } from "vitest";
import {
  callWorker,
  callWorkerWithoutWaiting,
  examplePayloads,
  issueCommentPayload,
  kvSnapshot,
  signedWebhook,
} from "./support/harness";
import { startWorld, type World } from "./support/world";

describe("POST /api/github/webhooks", () => {
  let fakes: World;
  beforeEach(() => {
    fakes = startWorld();
  });

  async function expectNothingHappened() {
    expect(fakes.github.requests).toEqual([]);
    expect(fakes.openhands.requests).toEqual([]);
    expect(await kvSnapshot(fakes.env)).toEqual([]);
  }

  const trigger = () => issueCommentPayload("@openhands-app please fix this");

  it("answers 401 to a missing signature and does nothing", async () => {
    const response = await fakes.deliver("issue_comment", trigger(), { signature: null });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "invalid or missing signature" });
    await expectNothingHappened();
  });

  it("answers 401 to a signature made with another secret and does nothing", async () => {
    expect((await fakes.deliver("issue_comment", trigger(), { secret: "not-the-secret" })).status).toBe(401);
    await expectNothingHappened();
  });

  it("answers 401 when the body was changed after signing", async () => {
    const signed = await signedWebhook("issue_comment", trigger());
    const tampered = new Request(signed.url, {
      method: "POST",
      headers: signed.headers,
      body: (await signed.text()).replace("please fix this", "please delete everything"),
    });
    expect((await callWorker(tampered, fakes.env)).status).toBe(401);
    await expectNothingHappened();
  });

  it("answers 401 to a sha1 signature or garbage in the header", async () => {
    for (const signature of ["sha1=0123456789abcdef0123456789abcdef01234567", "sha256=zz", "", "sha256="]) {
      const response = await fakes.deliver("issue_comment", trigger(), { signature });
      expect(response.status).toBe(401);
    }
    await expectNothingHappened();
  });

  it("answers 400 to a correctly signed body that is not JSON", async () => {
    const response = await fakes.deliver("issue_comment", undefined, { rawBody: "{not json" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "body is not valid JSON" });
    await expectNothingHappened();
  });

  it("answers 2xx to events it does not handle, with no side effect", async () => {
    for (const [event, payload] of [
      ["ping", examplePayloads("ping")[0]],
      ["push", examplePayloads("push")[0]],
      ["issue_comment", examplePayloads("issue_comment").find((p) => p.action === "deleted")],
      ["star", examplePayloads("star")[0]],
    ] as const) {
      const response = await fakes.deliver(event, payload);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ ok: true, ignored: expect.any(String) });
    }
    await expectNothingHappened();
  });

  it("ignores a signed comment without a mention, and says why", async () => {
    const response = await fakes.deliver("issue_comment", issueCommentPayload("LGTM"));
    expect(await response.json()).toEqual({ ok: true, ignored: "no mention" });
    await expectNothingHappened();
  });

  it("answers a valid trigger with 202 before any upstream call is made, and has recorded it by then", async () => {
    const { response, settled } = await callWorkerWithoutWaiting(
      await signedWebhook("issue_comment", trigger()),
      fakes.env,
    );
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ ok: true, received: expect.stringMatching(/^[0-9a-f]{32}$/) });
    // Whatever GitHub and OpenHands do, nobody was asked anything before the answer...
    expect(fakes.github.requests).toEqual([]);
    expect(fakes.openhands.requests).toEqual([]);
    // ...and the request is already safe in KV.
    expect((await kvSnapshot(fakes.env)).map((e) => (e.metadata as { s?: string } | null)?.s)).toContain("received");
    await settled();
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
  });

  it("answers at once when the repository's config is already known, and records the task itself", async () => {
    await fakes.deliver("issue_comment", trigger());
    const before = fakes.github.requests.length;
    const second = trigger();
    second.comment.id += 1;
    const { response, settled } = await callWorkerWithoutWaiting(
      await signedWebhook("issue_comment", second),
      fakes.env,
    );
    expect(await response.json()).toMatchObject({ ok: true, accepted: `issue_comment:${second.comment.id}` });
    expect(fakes.github.requests.length).toBe(before);
    await settled();
  });

  it("refuses bodies over GitHub's 25 MB cap with 413", async () => {
    const request = new Request("https://worker.example/api/github/webhooks", {
      method: "POST",
      headers: { "content-length": String(26 * 1024 * 1024), "x-github-event": "issue_comment" },
      body: "{}",
    });
    expect((await callWorker(request, fakes.env)).status).toBe(413);
    await expectNothingHappened();
  });

  for (const missing of [
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_APP_PRIVATE_KEY",
    "OPENHANDS_API_KEY",
    "GITHUB_APP_ID",
  ] as const) {
    it(`answers 500 and names ${missing} in the log when it is not set`, async () => {
      const logged: string[] = [];
      const original = console.error;
      console.error = (line: string) => logged.push(line);
      try {
        const env = { ...fakes.env, [missing]: "" };
        const response = await callWorker(await signedWebhook("issue_comment", trigger()), env);
        expect(response.status).toBe(500);
        expect(await response.text()).not.toContain(fakes.env.GITHUB_WEBHOOK_SECRET);
      } finally {
        console.error = original;
      }
      expect(logged.join("\n")).toContain(`${missing} is not set`);
      await expectNothingHappened();
    });
  }

  it("serves GET /healthz", async () => {
    const response = await callWorker(new Request("https://worker.example/healthz"), fakes.env);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      ok: true,
      service: "openhands-github-app",
      checks: { config: "ok", kv: "ok" },
    });
  });

  it("answers 404 with JSON on unknown routes", async () => {
    const response = await callWorker(new Request("https://worker.example/api/github/webhook"), fakes.env);
    expect(response.status).toBe(404);
  });
});
