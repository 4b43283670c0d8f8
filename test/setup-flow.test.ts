import { env } from "cloudflare:test";
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { forgetOpenedCredentials } from "../src/config";
import { FakeOpenHands } from "./fakes/openhands";
import {
  callWorker,
  issueCommentPayload,
  kvSnapshot,
  runCron,
  signedWebhook,
  startFakes,
  type TestEnv,
} from "./harness";
import { network } from "./setup";

/**
 * `/setup` inside workerd: the pages, the manifest, the conversion and what is
 * kept. (test/browser/ walks the same flow in Chromium against GitHub's pages.)
 */
const ORIGIN = "https://openhands.example.workers.dev";
const TOKEN = "setup-token-0123456789abcdef0123456789abcdef";
const WEBHOOK_SECRET = "whsec_from_github_7c2f0b9e4d1a";

/** A Worker deployed without any GitHub App secret, only SETUP_TOKEN and the OpenHands key. */
function freshWorker(): { fakes: ReturnType<typeof startFakes>; env: TestEnv; conversions: string[] } {
  forgetOpenedCredentials();
  const fakes = startFakes();
  fakes.github.permissions.set("codertocat", "write");
  fakes.openhands.nextScript = {
    ...FakeOpenHands.defaultScript(),
    startSteps: ["WORKING"],
    execution: ["running", "finished"],
  };
  const testEnv = {
    ...fakes.env,
    GITHUB_APP_ID: undefined,
    GITHUB_APP_PRIVATE_KEY: undefined,
    GITHUB_WEBHOOK_SECRET: undefined,
    SETUP_TOKEN: TOKEN,
  } as TestEnv;
  // GitHub's conversion: each code once, as docs.github.com describes it (201, the App with its secrets).
  const codes = new Set(["code-1", "code-2"]);
  const conversions: string[] = [];
  network.use(
    http.post("https://api.github.com/app-manifests/:code/conversions", ({ params }) => {
      const code = String(params.code);
      conversions.push(code);
      if (code === "code-broken") return HttpResponse.json({ message: "Server Error" }, { status: 500 });
      if (!codes.delete(code))
        return HttpResponse.json(
          {
            message: "Not Found",
            documentation_url: "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest",
          },
          { status: 404 },
        );
      return HttpResponse.json(
        {
          id: Number(env.GITHUB_APP_ID),
          slug: "openhands-example",
          node_id: "A_kwHOAAjw_84AAQ",
          owner: { login: "Codertocat", id: 21031067, type: "User" },
          name: "OpenHands example",
          description: null,
          external_url: ORIGIN,
          html_url: "https://github.com/apps/openhands-example",
          created_at: "2026-11-26T10:00:00Z",
          updated_at: "2026-11-26T10:00:00Z",
          permissions: { issues: "write", pull_requests: "write", contents: "read", metadata: "read" },
          events: ["issues", "issue_comment", "pull_request", "pull_request_review", "pull_request_review_comment"],
          client_id: "Iv23liexample",
          client_secret: "0123456789abcdef0123456789abcdef01234567",
          webhook_secret: WEBHOOK_SECRET,
          pem: env.GITHUB_APP_PRIVATE_KEY,
        },
        { status: 201 },
      );
    }),
  );
  return { fakes, env: testEnv, conversions };
}

const get = (path: string, testEnv: TestEnv) => callWorker(new Request(`${ORIGIN}${path}`), testEnv);

async function stateFrom(testEnv: TestEnv): Promise<string> {
  const html = await (await get(`/setup?token=${TOKEN}`, testEnv)).text();
  return decodeURIComponent(/state=([^"&]+)/.exec(html)![1]!);
}

describe("/setup", () => {
  it("without the setup token it shows nothing of the flow", async () => {
    const { env: testEnv } = freshWorker();
    for (const path of ["/setup", "/setup?token=wrong", `/setup?token=${TOKEN.slice(0, -1)}`]) {
      const response = await get(path, testEnv);
      expect(response.status).toBe(403);
      expect(await response.text()).not.toContain("manifest");
    }
    const disabled = await get(`/setup?token=${TOKEN}`, { ...testEnv, SETUP_TOKEN: undefined });
    expect(disabled.status).toBe(403);
  });

  it("offers one button that posts this Worker's App manifest to GitHub, for the account or an organisation", async () => {
    const { env: testEnv } = freshWorker();
    const response = await get(`/setup?token=${TOKEN}`, testEnv);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toMatch(
      /<form id="manifest-form" method="post" action="https:\/\/github\.com\/settings\/apps\/new\?state=\d{13}\.[0-9a-f]{64}">/,
    );
    const manifest = JSON.parse(
      /name="manifest" value="([^"]*)"/
        .exec(html)![1]!
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, "&"),
    );
    expect(manifest).toEqual({
      name: "example OpenHands",
      url: ORIGIN,
      hook_attributes: { url: `${ORIGIN}/api/github/webhooks`, active: true },
      redirect_url: `${ORIGIN}/setup/callback`,
      public: false,
      default_permissions: { issues: "write", pull_requests: "write", contents: "read", metadata: "read" },
      default_events: ["issues", "issue_comment", "pull_request", "pull_request_review", "pull_request_review_comment"],
    });
    // GIT_IDENTITY=app: the agent pushes with the App's token, so the App asks to write contents.
    const asApp = await (await get(`/setup?token=${TOKEN}`, { ...testEnv, GIT_IDENTITY: "app" })).text();
    expect(
      JSON.parse(/name="manifest" value="([^"]*)"/.exec(asApp)![1]!.replace(/&quot;/g, '"')).default_permissions,
    ).toEqual({
      issues: "write",
      pull_requests: "write",
      contents: "write",
      metadata: "read",
    });
    expect(asApp).toContain("Contents read and write (the agent pushes as the App)");
    // The mention people will write is the slug of that name.
    expect(html).toContain('<code id="mention">@example-openhands</code>');
    const org = await (await get(`/setup?token=${TOKEN}&org=acme-corp`, testEnv)).text();
    expect(org).toContain('action="https://github.com/organizations/acme-corp/settings/apps/new?state=');
    expect((await get(`/setup?token=${TOKEN}&org=${encodeURIComponent('"><script>')}`, testEnv)).status).toBe(400);
  });

  it("turns GitHub's code into a live App: credentials sealed in KV, webhooks verified with the new secret, setup closed", async () => {
    const { fakes, env: testEnv } = freshWorker();
    const state = await stateFrom(testEnv);
    const done = await get(`/setup/callback?code=code-1&state=${encodeURIComponent(state)}`, testEnv);
    expect(done.status).toBe(200);
    const html = await done.text();
    expect(html).toContain('id="install"');
    expect(html).toContain('href="https://github.com/apps/openhands-example/installations/new"');
    // Asked by its own name, and the operator is told why
    expect(html).toContain('<code id="mention">@openhands-example</code>');
    expect(html).toContain('<code id="label">openhands-example</code>');
    expect(html).toContain("install that one too on the same repositories");
    expect(html).not.toContain("⚠️");

    // Kept sealed: neither the key nor the webhook secret can be read from KV.
    const stored = (await kvSnapshot(testEnv)).map((e) => e.value ?? "").join("\n");
    expect(stored).not.toContain("PRIVATE KEY");
    expect(stored).not.toContain(WEBHOOK_SECRET);

    // Closed to everyone, the token holder included.
    const again = await get(`/setup?token=${TOKEN}`, testEnv);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('id="closed"');

    // Live: a request signed with the App's new webhook secret, by the App's own name, starts a conversation.
    forgetOpenedCredentials(); // a cold isolate opens them from KV
    const payload = issueCommentPayload("@openhands-example fix the crash");
    const response = await callWorker(
      await signedWebhook("issue_comment", payload, { secret: WEBHOOK_SECRET }),
      testEnv,
    );
    expect(response.status).toBe(202);
    await runCron(testEnv);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
    const forged = await callWorker(
      await signedWebhook("issue_comment", payload, { secret: "not-the-new-secret-at-all" }),
      testEnv,
    );
    expect(forged.status).toBe(401);
  });

  it("a cancelled flow, a forged state, a reused or failed code: a clear page, nothing written, and a later attempt still works", async () => {
    const { env: testEnv, conversions } = freshWorker();
    const state = encodeURIComponent(await stateFrom(testEnv));
    const cases: [string, number, string][] = [
      [`/setup/callback?state=${state}`, 400, "No App was created"],
      [`/setup/callback?code=code-1&state=${Date.now()}.${"0".repeat(64)}`, 400, "did not come from this Worker"],
      [`/setup/callback?code=code-1`, 400, "did not come from this Worker"],
      [`/setup/callback?code=code-unknown&state=${state}`, 400, "already used or has expired"],
      [`/setup/callback?code=code-broken&state=${state}`, 502, "GitHub did not answer"],
    ];
    for (const [path, status, text] of cases) {
      const response = await get(path, testEnv);
      expect(response.status, path).toBe(status);
      const html = await response.text();
      expect(html).toContain('id="error"');
      expect(html).toContain(text);
    }
    // a forged state never reaches GitHub
    expect(conversions).toEqual(["code-unknown", "code-broken"]);
    expect((await kvSnapshot(testEnv)).filter((e) => e.name === "app:credentials")).toEqual([]);

    expect((await get(`/setup/callback?code=code-2&state=${state}`, testEnv)).status).toBe(200);
    // the same code again: the Worker is set up, so the page is closed
    expect((await get(`/setup/callback?code=code-2&state=${state}`, testEnv)).status).toBe(410);
  });

  it("a state older than an hour is refused", async () => {
    const { env: testEnv } = freshWorker();
    const { makeState } = await import("../src/setup/state");
    const old = await makeState(TOKEN, Date.now() - 61 * 60_000);
    const response = await get(`/setup/callback?code=code-1&state=${encodeURIComponent(old)}`, testEnv);
    expect(response.status).toBe(400);
  });

  it("is closed when the App's secrets were set by hand", async () => {
    const fakes = startFakes();
    expect((await get(`/setup?token=${TOKEN}`, { ...fakes.env, SETUP_TOKEN: TOKEN })).status).toBe(410);
  });
});
