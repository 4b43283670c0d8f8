import { env } from "cloudflare:test";
import { HttpResponse, http } from "msw";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { forgetOpenedCredentials } from "../src/config";
import { rememberAppIdentity } from "../src/github/app-identity";
import { storeCredentials } from "../src/setup/credentials";
import { seal } from "../src/setup/sealing";
import { callWorker, issueCommentPayload, kvSnapshot, runCron, signedWebhook, type TestEnv } from "./support/harness";
import { network } from "./support/network";
import { startWorld, type World } from "./support/world";

/**
 * `/setup` inside workerd: the pages, the manifest, the conversion and what is
 * kept. (test/browser/ walks the same flow in Chromium against GitHub's pages.)
 */
const ORIGIN = "https://openhands.example.workers.dev";
const TOKEN = "setup-token-0123456789abcdef0123456789abcdef";
const WEBHOOK_SECRET = "whsec_from_github_7c2f0b9e4d1a";

/** A Worker deployed without any GitHub App secret, only SETUP_TOKEN and the OpenHands key. */
function freshWorker(): { fakes: World; env: TestEnv; conversions: string[] } {
  forgetOpenedCredentials();
  const fakes = startWorld();
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
          permissions: {
            issues: "write",
            pull_requests: "write",
            contents: "read",
            metadata: "read",
            checks: "read",
            actions: "read",
          },
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

const get = (path: string, testEnv: TestEnv, cookie?: string) =>
  callWorker(new Request(`${ORIGIN}${path}`, cookie ? { headers: { cookie } } : {}), testEnv);

/** The cookie a response sets, as the browser sends it back (`name=value`). */
function cookieOf(response: Response): string {
  const set = response.headers.get("set-cookie");
  expect(set, "a Set-Cookie header").toBeTruthy();
  return set!.split(";")[0]!;
}

/** Opens the link `npm run deploy` printed, as a browser does: the session cookie it is given. */
async function openLink(testEnv: TestEnv): Promise<string> {
  const response = await get(`/setup?token=${TOKEN}`, testEnv);
  expect(response.status).toBe(303);
  return cookieOf(response);
}

async function stateFrom(testEnv: TestEnv, cookie: string): Promise<string> {
  const html = await (await get("/setup", testEnv, cookie)).text();
  return decodeURIComponent(/state=([^"&]+)/.exec(html)![1]!);
}

/** Every line the Worker logged in this test. */
let logged: string[] = [];
beforeEach(() => {
  logged = [];
  for (const level of ["log", "info", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
  }
});
afterEach(() => vi.restoreAllMocks());

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
    const cookie = await openLink(testEnv);
    const response = await get("/setup", testEnv, cookie);
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
      default_permissions: {
        issues: "write",
        pull_requests: "write",
        contents: "read",
        metadata: "read",
        checks: "read",
        actions: "read",
      },
      default_events: ["issues", "issue_comment", "pull_request", "pull_request_review", "pull_request_review_comment"],
    });
    // GIT_IDENTITY=app: the agent pushes with the App's token, so the App asks to write contents.
    const asApp = await (await get("/setup", { ...testEnv, GIT_IDENTITY: "app" }, cookie)).text();
    expect(
      JSON.parse(/name="manifest" value="([^"]*)"/.exec(asApp)![1]!.replace(/&quot;/g, '"')).default_permissions,
    ).toEqual({
      issues: "write",
      pull_requests: "write",
      contents: "write",
      metadata: "read",
      checks: "read",
      actions: "read",
    });
    expect(asApp).toContain("Contents read and write (the agent pushes as the App)");
    // The mention people will write is the slug of that name.
    expect(html).toContain('<code id="mention">@example-openhands</code>');
    const org = await (await get("/setup?org=acme-corp", testEnv, cookie)).text();
    expect(org).toContain('action="https://github.com/organizations/acme-corp/settings/apps/new?state=');
    expect((await get(`/setup?org=${encodeURIComponent('"><script>')}`, testEnv, cookie)).status).toBe(400);
  });

  it("turns GitHub's code into a live App: credentials sealed in KV, webhooks verified with the new secret, setup closed", async () => {
    const { fakes, env: testEnv } = freshWorker();
    const cookie = await openLink(testEnv);
    const state = await stateFrom(testEnv, cookie);
    const done = await get(`/setup/callback?code=code-1&state=${encodeURIComponent(state)}`, testEnv, cookie);
    expect(done.status).toBe(200);
    // The session ends with setup; the operator is told to change the token that has been in a link.
    expect(done.headers.get("set-cookie")).toMatch(
      /^setup_session=; Max-Age=0; Path=\/setup; HttpOnly; Secure; SameSite=Strict$/,
    );
    const html = await done.text();
    expect(html).toContain('id="install"');
    expect(html).toContain('href="https://github.com/apps/openhands-example/installations/new"');
    // Asked by its own name, and the operator is told why
    expect(html).toContain('<code id="mention">@openhands-example</code>');
    expect(html).toContain('<code id="label">openhands-example</code>');
    expect(html).toContain("install that one too on the same repositories");
    expect(html).not.toContain("⚠️");
    expect(html).toContain("npm run rotate-setup-token");

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
    const cookie = await openLink(testEnv);
    const state = encodeURIComponent(await stateFrom(testEnv, cookie));
    const cases: [string, number, string][] = [
      [`/setup/callback?state=${state}`, 400, "No App was created"],
      [`/setup/callback?code=code-1&state=${Date.now()}.${"0".repeat(64)}`, 400, "did not come from this Worker"],
      [`/setup/callback?code=code-1`, 400, "did not come from this Worker"],
      [`/setup/callback?code=code-unknown&state=${state}`, 400, "already used or has expired"],
      [`/setup/callback?code=code-broken&state=${state}`, 502, "GitHub did not answer"],
    ];
    for (const [path, status, text] of cases) {
      const response = await get(path, testEnv, cookie);
      expect(response.status, path).toBe(status);
      const html = await response.text();
      expect(html).toContain('id="error"');
      expect(html).toContain(text);
    }
    // a forged state never reaches GitHub
    expect(conversions).toEqual(["code-unknown", "code-broken"]);
    expect((await kvSnapshot(testEnv)).filter((e) => e.name === "app:credentials")).toEqual([]);

    expect((await get(`/setup/callback?code=code-2&state=${state}`, testEnv, cookie)).status).toBe(200);
    // the same code again: the Worker is set up, so the page is closed
    expect((await get(`/setup/callback?code=code-2&state=${state}`, testEnv, cookie)).status).toBe(410);
  });

  it("a state older than an hour is refused", async () => {
    const { env: testEnv, conversions } = freshWorker();
    const cookie = await openLink(testEnv);
    const { makeState } = await import("../src/setup/state");
    const nonce = decodeURIComponent(cookie.split("=")[1]!).split(".")[1]!;
    const old = await makeState(TOKEN, nonce, Date.now() - 61 * 60_000);
    const response = await get(`/setup/callback?code=code-1&state=${encodeURIComponent(old)}`, testEnv, cookie);
    expect(response.status).toBe(400);
    expect(conversions).toEqual([]);
  });

  it("is closed when the App's secrets were set by hand", async () => {
    const fakes = startWorld();
    expect((await get(`/setup?token=${TOKEN}`, { ...fakes.env, SETUP_TOKEN: TOKEN })).status).toBe(410);
  });
});

describe("/setup without the token in URLs (issue 20)", () => {
  it("trades the link's token for a short-lived HttpOnly, Secure, SameSite=Strict cookie and a 303 to a clean URL", async () => {
    const { env: testEnv } = freshWorker();
    const link = await get(`/setup?token=${TOKEN}`, testEnv);
    expect(link.status).toBe(303);
    expect(link.headers.get("location")).toBe("/setup");
    const setCookie = link.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^setup_session=[^;]+; Max-Age=3600; Path=\/setup; HttpOnly; Secure; SameSite=Strict$/);
    expect(setCookie).not.toContain(TOKEN);
    expect(await link.text()).toBe("");

    // The clean URL shows the flow to the cookie, and nothing it renders carries the token.
    const cookie = cookieOf(link);
    const page = await get("/setup", testEnv, cookie);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('id="manifest-form"');
    expect(html).not.toContain(TOKEN);
    expect(html).not.toMatch(/name="token"/);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    // The page may only style itself and post its forms to itself and to GitHub; nobody may frame it.
    expect(page.headers.get("content-security-policy")).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https://github.com; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(page.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");

    // The organisation's page keeps its query, and the link opened again keeps the session (a GitHub tab
    // still open carries a state bound to it).
    const orgLink = await get(`/setup?token=${TOKEN}&org=acme-corp`, testEnv, cookie);
    expect(orgLink.status).toBe(303);
    expect(orgLink.headers.get("location")).toBe("/setup?org=acme-corp");
    expect(orgLink.headers.get("set-cookie")).toBeNull();

    // No cookie, a forged one, one signed under another token, or one over an hour old: refused.
    const [name, value] = cookie.split("=") as [string, string];
    const forged = `${name}=${encodeURIComponent(`${Date.now()}.${"0".repeat(32)}.${decodeURIComponent(value).split(".")[2]}`)}`;
    const otherToken = cookieOf(
      await get(`/setup?token=${"x".repeat(40)}`, { ...testEnv, SETUP_TOKEN: "x".repeat(40) }),
    );
    for (const sent of [undefined, forged, otherToken, `${name}=garbage`]) {
      const refused = await get("/setup", testEnv, sent);
      expect(refused.status, String(sent)).toBe(403);
      expect(await refused.text()).toContain("This browser holds no setup session");
    }
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 61 * 60_000);
    expect((await get("/setup", testEnv, cookie)).status).toBe(403);
    vi.mocked(Date.now).mockRestore();

    // A wrong token gets no cookie.
    const wrong = await get(`/setup?token=${TOKEN.slice(0, -1)}x`, testEnv);
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it("GitHub's redirect back arrives without the Strict cookie: the Worker asks again from its own origin, then converts", async () => {
    const { env: testEnv, conversions } = freshWorker();
    const cookie = await openLink(testEnv);
    const state = encodeURIComponent(await stateFrom(testEnv, cookie));
    const callback = `/setup/callback?code=code-1&state=${state}`;

    const bounced = await get(callback, testEnv);
    expect(bounced.status).toBe(200);
    const html = await bounced.text();
    const again = `${callback.replace(/&/g, "&amp;")}&amp;resumed=1`;
    expect(html).toContain(`<meta http-equiv="refresh" content="0;url=${again}">`);
    expect(html).toContain(`<a id="continue" class="button" href="${again}">`);
    expect(conversions).toEqual([]);

    // Still no cookie on the second try (another browser, or the session is over): refused, code not spent.
    const noSession = await get(`${callback}&resumed=1`, testEnv);
    expect(noSession.status).toBe(403);
    expect(await noSession.text()).toContain("This browser holds no setup session");
    // Another browser's session: the state was not made for it.
    const otherBrowser = await openLink(testEnv);
    expect((await get(`${callback}&resumed=1`, testEnv, otherBrowser)).status).toBe(400);
    expect(conversions).toEqual([]);

    const done = await get(`${callback}&resumed=1`, testEnv, cookie);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('id="done"');
    expect(conversions).toEqual(["code-1"]);
    // Nothing the Worker logged carries the token.
    expect(logged.join("\n")).toContain("setup.done");
    expect(logged.join("\n")).not.toContain(TOKEN);
  });

  it("refuses a SETUP_TOKEN under 32 characters with a page that says how to make one", async () => {
    const { env: fresh } = freshWorker();
    const short = "s".repeat(31);
    const testEnv = { ...fresh, SETUP_TOKEN: short };
    for (const path of [`/setup?token=${short}`, "/setup", "/setup/callback?code=code-1&state=x"]) {
      const response = await get(path, testEnv);
      expect(response.status, path).toBe(403);
      expect(response.headers.get("set-cookie")).toBeNull();
      const html = await response.text();
      expect(html).toContain("SETUP_TOKEN is too short");
      expect(html).toContain("at least 32 characters");
      expect(html).toContain("npx wrangler secret delete SETUP_TOKEN &amp;&amp; npm run deploy");
      expect(html).toContain("openssl rand -hex 32 | npx wrangler secret put SETUP_TOKEN");
      expect(html).not.toContain("manifest");
    }
    expect((await get(`/setup?token=${"s".repeat(32)}`, { ...fresh, SETUP_TOKEN: "s".repeat(32) })).status).toBe(303);
  });

  it("refuses GITHUB_URL or GITHUB_API_URL over plain http, except on localhost", async () => {
    const { env: fresh, conversions } = freshWorker();
    const cookie = await openLink(fresh);
    const state = encodeURIComponent(await stateFrom(fresh, cookie));
    for (const [name, value] of [
      ["GITHUB_URL", "http://github.example.com"],
      ["GITHUB_API_URL", "http://github.example.com/api/v3"],
      ["GITHUB_API_URL", "not a url"],
    ] as const) {
      const testEnv = { ...fresh, [name]: value };
      for (const path of [`/setup?token=${TOKEN}`, "/setup", `/setup/callback?code=code-1&state=${state}`]) {
        const response = await get(path, testEnv, cookie);
        expect(response.status, `${name}=${value} ${path}`).toBe(500);
        const html = await response.text();
        expect(html).toContain(`${name} is not https`);
        expect(html).toContain("Set it to an https URL (http only for localhost)");
      }
    }
    expect(conversions).toEqual([]);
    const local = { ...fresh, GITHUB_URL: "http://localhost:3000", GITHUB_API_URL: "http://127.0.0.1:3001" };
    expect((await get("/setup", local, cookie)).status).toBe(200);
  });
});

describe("/setup callbacks one at a time (issue 20)", () => {
  it("two callbacks at once: one converts and stores, the other shows a page and spends nothing", async () => {
    const { env: testEnv, conversions } = freshWorker();
    const cookie = await openLink(testEnv);
    const state = encodeURIComponent(await stateFrom(testEnv, cookie));
    const [first, second] = await Promise.all(
      ["code-1", "code-2"].map((code) => get(`/setup/callback?code=${code}&state=${state}`, testEnv, cookie)),
    );
    expect([first!.status, second!.status]).toEqual([200, 409]);
    expect(await second!.text()).toContain("Setup is already being finished");
    expect(conversions).toEqual(["code-1"]);
    // The lock is gone once setup is done: the KV holds the App, and no marker.
    const keys = (await kvSnapshot(testEnv)).map((e) => e.name);
    expect(keys).toContain("app:credentials");
    expect(keys).not.toContain("setup:converting");
  });

  it("a callback in another isolate holds the KV marker: this one converts nothing", async () => {
    const { env: testEnv, conversions } = freshWorker();
    const cookie = await openLink(testEnv);
    const state = encodeURIComponent(await stateFrom(testEnv, cookie));
    await testEnv.TASKS.put("setup:converting", "another-isolate", { expirationTtl: 120 });
    const response = await get(`/setup/callback?code=code-1&state=${state}`, testEnv, cookie);
    expect(response.status).toBe(409);
    expect(await response.text()).toContain("Setup is already being finished");
    expect(conversions).toEqual([]);
    expect(await testEnv.TASKS.get("setup:converting")).toBe("another-isolate");
    expect(await testEnv.TASKS.get("app:credentials")).toBeNull();
  });

  it("credentials stored from elsewhere during the conversion are kept; the page names the App left unused", async () => {
    const { env: testEnv } = freshWorker();
    const cookie = await openLink(testEnv);
    const state = encodeURIComponent(await stateFrom(testEnv, cookie));
    const winner = { appId: "999", privateKey: "k", webhookSecret: "w".repeat(20), slug: "winner", owner: "o" };
    // Past the marker (KV has no compare-and-set): another location's callback stores while GitHub converts ours.
    network.use(
      http.post("https://api.github.com/app-manifests/code-1/conversions", async () => {
        await storeCredentials(testEnv.TASKS, TOKEN, winner);
        return HttpResponse.json(
          {
            id: 1000,
            slug: "late-app",
            name: "Late App",
            owner: { login: "Codertocat" },
            webhook_secret: "s".repeat(40),
            pem: "pem",
          },
          { status: 201 },
        );
      }),
    );
    const response = await get(`/setup/callback?code=code-1&state=${state}`, testEnv, cookie);
    expect(response.status).toBe(409);
    const html = await response.text();
    expect(html).toContain("Setup was finished by another callback");
    expect(html).toContain("Late App");
    expect(html).toContain("late-app");
    const { openCredentials } = await import("../src/setup/credentials");
    expect(await openCredentials(testEnv.TASKS, TOKEN)).toEqual({ credentials: winner });
  });
});

describe("SETUP_TOKEN changed (issue 20)", () => {
  const OLD = TOKEN;
  const NEW = "n".repeat(64);

  async function setUpWith(token: string) {
    const { fakes, env: testEnv } = freshWorker();
    await storeCredentials(testEnv.TASKS, token, {
      appId: env.GITHUB_APP_ID,
      privateKey: env.GITHUB_APP_PRIVATE_KEY,
      webhookSecret: WEBHOOK_SECRET,
      slug: "openhands-example",
      owner: "Codertocat",
    });
    await rememberAppIdentity(testEnv.TASKS, { owner: "Codertocat", slug: "openhands-example" });
    return { fakes, testEnv };
  }

  it("changed by hand: /healthz and the logs say the credentials do not open, and how to fix it", async () => {
    const { testEnv } = await setUpWith(OLD);
    for (const [token, says] of [
      [NEW, "do not open with this SETUP_TOKEN"],
      [undefined, "SETUP_TOKEN is not set, but the App credentials /setup stored"],
    ] as const) {
      forgetOpenedCredentials();
      logged = [];
      const bricked = { ...testEnv, SETUP_TOKEN: token };
      const health = await get("/healthz", bricked);
      expect(health.status).toBe(503);
      const body = (await health.json()) as { problems: string[] };
      expect(body.problems[0]).toContain(says);
      expect(body.problems[0]).toContain("npm run rotate-setup-token");
      expect(body.problems[0]).toContain("GITHUB_APP_PRIVATE_KEY");

      const webhook = await callWorker(
        await signedWebhook("issue_comment", issueCommentPayload("@openhands-example hi"), { secret: WEBHOOK_SECRET }),
        bricked,
      );
      expect(webhook.status).toBe(500);
      const line = logged.map((l) => JSON.parse(l)).find((l) => l.event === "setup.credentials_unopened");
      expect(line?.problem).toContain(says);
      expect(logged.join("\n")).not.toContain(OLD);
    }
  });

  it("mid-rotation (new token live, main copy not yet re-sealed): the Worker opens the rotation copy", async () => {
    const { fakes, testEnv } = await setUpWith(OLD);
    const plain = JSON.stringify({
      appId: env.GITHUB_APP_ID,
      privateKey: env.GITHUB_APP_PRIVATE_KEY,
      webhookSecret: WEBHOOK_SECRET,
      slug: "openhands-example",
      owner: "Codertocat",
    });
    await testEnv.TASKS.put("app:credentials:next", await seal(NEW, plain), { expirationTtl: 86_400 });
    forgetOpenedCredentials();
    const rotated = { ...testEnv, SETUP_TOKEN: NEW };
    expect((await get("/healthz", rotated)).status).toBe(200);
    const response = await callWorker(
      await signedWebhook("issue_comment", issueCommentPayload("@openhands-example fix the crash"), {
        secret: WEBHOOK_SECRET,
      }),
      rotated,
    );
    expect(response.status).toBe(202);
    await runCron(rotated);
    expect(fakes.openhands.find("POST", /^\/api\/v1\/app-conversations$/)).toHaveLength(1);
    // The old token still opens the main copy (the isolates that have not got the new secret yet).
    forgetOpenedCredentials();
    expect((await get("/healthz", testEnv)).status).toBe(200);
  });
});
