import { createPrivateKey, createPublicKey, createSign, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FakeGitHub } from "../support/fakes/github";
import { FakeGitHubWeb, type RegisteredApp } from "../support/fakes/github-web";

/** The stand-in for github.com's manifest flow, driven with plain requests (no browser, no Worker). */

const WEB = "http://github.test";
const API = "http://api.github.test";
const WORKER = "https://worker.example";

const MANIFEST = {
  name: "OpenHands for Codertocat",
  url: WORKER,
  hook_attributes: { url: `${WORKER}/api/github/webhooks`, active: true },
  redirect_url: `${WORKER}/setup/callback`,
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
};

function setup(now?: () => number) {
  const old = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const api = new FakeGitHub({
    baseUrl: API,
    appId: "123456",
    publicKeyPem: old.publicKey.export({ type: "spki", format: "pem" }).toString(),
  });
  const web = new FakeGitHubWeb({ webUrl: WEB, apiUrl: API, api, now });
  /** One loopback server would serve both: the web fake first, the API behind it. */
  const send = async (request: Request) => (await web.handle(request)) ?? (await api.handle(request))!;
  return { api, web, send, oldPrivateKey: old.privateKey.export({ type: "pkcs1", format: "pem" }).toString() };
}

function postForm(url: string, fields: Record<string, string>): Request {
  return new Request(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
}

function pendingId(html: string): string {
  const found = html.match(/name="pending" value="([^"]+)"/);
  if (!found) throw new Error(`no confirmation form in:\n${html}`);
  return found[1]!;
}

/** POST the manifest, confirm with the name shown (or `name`), and return the redirect. */
async function register(
  send: (r: Request) => Promise<Response>,
  path = "/settings/apps/new",
  state = "st4te",
  manifest: object = MANIFEST,
  name?: string,
) {
  const shown = await send(postForm(`${WEB}${path}?state=${state}`, { manifest: JSON.stringify(manifest) }));
  expect(shown.status).toBe(200);
  const html = await shown.text();
  const fields: Record<string, string> = { pending: pendingId(html) };
  fields.name = name ?? html.match(/id="app-name" name="name" type="text" value="([^"]*)"/)?.[1] ?? "";
  const confirmed = await send(postForm(`${WEB}/settings/apps/confirm`, fields));
  return { html, confirmed };
}

function codeOf(response: Response): { code: string; state: string | null; location: URL } {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get("location")!);
  return { code: location.searchParams.get("code")!, state: location.searchParams.get("state"), location };
}

function jwt(iss: string | number, pem: string): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iat: now - 60, exp: now + 540, iss })}`;
  return `${input}.${createSign("RSA-SHA256").update(input).sign(pem).toString("base64url")}`;
}

describe("FakeGitHubWeb: registering an App from a manifest", () => {
  it("shows the App to be created, redirects with a code and the state, and converts the code once", async () => {
    const { web, send } = setup();
    const { html, confirmed } = await register(send);
    expect(html).toContain('id="confirm"');
    expect(html).toContain('id="cancel"');
    expect(html).toContain('value="OpenHands for Codertocat"');
    expect(html).toContain(`${WORKER}/api/github/webhooks`);

    const { code, state, location } = codeOf(confirmed);
    expect(`${location.origin}${location.pathname}`).toBe(`${WORKER}/setup/callback`);
    expect(state).toBe("st4te");
    expect(code).toMatch(/^[0-9a-f]{40}$/);

    const converted = await send(new Request(`${API}/app-manifests/${code}/conversions`, { method: "POST" }));
    expect(converted.status).toBe(201);
    const app = (await converted.json()) as Record<string, any>;
    expect(Object.keys(app).sort()).toEqual(
      [
        "id",
        "slug",
        "node_id",
        "owner",
        "name",
        "description",
        "external_url",
        "html_url",
        "created_at",
        "updated_at",
        "permissions",
        "events",
        "client_id",
        "client_secret",
        "webhook_secret",
        "pem",
      ].sort(),
    );
    expect(app).toMatchObject({
      slug: "openhands-for-codertocat",
      name: "OpenHands for Codertocat",
      owner: { login: "Codertocat", type: "User" },
      external_url: WORKER,
      html_url: `${WEB}/apps/openhands-for-codertocat`,
      permissions: MANIFEST.default_permissions,
      events: MANIFEST.default_events,
    });
    expect(typeof app.id).toBe("number");
    expect(app.pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(createPublicKey(createPrivateKey(app.pem)).export({ type: "spki", format: "pem" })).toBe(
      web.apps[0]!.publicKeyPem,
    );
    expect(app.webhook_secret.length).toBeGreaterThanOrEqual(16);

    const again = await send(new Request(`${API}/app-manifests/${code}/conversions`, { method: "POST" }));
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({
      message: "Not Found",
      documentation_url: expect.stringContaining("docs.github.com"),
    });
    const unknown = await send(new Request(`${API}/app-manifests/${"0".repeat(40)}/conversions`, { method: "POST" }));
    expect(unknown.status).toBe(404);
    expect(web.conversions).toHaveLength(1);
  });

  it("registers for an organisation at /organizations/{org}/settings/apps/new", async () => {
    const { send } = setup();
    const { html, confirmed } = await register(send, "/organizations/acme/settings/apps/new", "org-state");
    expect(html).toContain('<strong id="owner">acme</strong>');
    expect(html).toContain(`href="${WEB}/organizations/acme/settings/apps"`);
    const { code, state } = codeOf(confirmed);
    expect(state).toBe("org-state");
    const app = (await (
      await send(new Request(`${API}/app-manifests/${code}/conversions`, { method: "POST" }))
    ).json()) as Record<string, any>;
    expect(app.owner).toMatchObject({ login: "acme", type: "Organization" });
  });

  it("creates nothing when the person cancels: the link leads to the Apps list", async () => {
    const { web, send } = setup();
    const shown = await send(postForm(`${WEB}/settings/apps/new?state=s`, { manifest: JSON.stringify(MANIFEST) }));
    const cancel = (await shown.text()).match(/id="cancel" href="([^"]+)"/)![1]!;
    expect(cancel).toBe(`${WEB}/settings/apps`);
    const list = await send(new Request(cancel));
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('id="no-apps"');
    expect(web.apps).toHaveLength(0);
  });

  it("answers 422 for a malformed manifest", async () => {
    const { web, send } = setup();
    const cases: Record<string, string>[] = [
      {},
      { manifest: "{not json" },
      { manifest: JSON.stringify([MANIFEST]) },
      { manifest: JSON.stringify({ ...MANIFEST, url: undefined }) },
      { manifest: JSON.stringify({ ...MANIFEST, hook_attributes: { active: true } }) },
      { manifest: JSON.stringify({ ...MANIFEST, default_permissions: { issues: "owner" } }) },
      { manifest: JSON.stringify({ ...MANIFEST, default_events: "issues" }) },
      { manifest: JSON.stringify({ ...MANIFEST, default_permissions: { metadata: "read" } }) },
    ];
    for (const fields of cases) {
      const response = await send(postForm(`${WEB}/settings/apps/new?state=s`, fields));
      expect(response.status, JSON.stringify(fields)).toBe(422);
      expect(await response.text()).toContain('id="error"');
    }
    expect(web.apps).toHaveLength(0);
  });

  it("lets a code expire after an hour", async () => {
    let now = Date.parse("2026-06-01T10:00:00Z");
    const { send } = setup(() => now);
    const { code } = codeOf((await register(send)).confirmed);
    now += 60 * 60 * 1000;
    const late = await send(new Request(`${API}/app-manifests/${code}/conversions`, { method: "POST" }));
    expect(late.status).toBe(404);
  });

  it("keeps App names unique, and confirms each registration once", async () => {
    const { send } = setup();
    codeOf((await register(send)).confirmed);
    const { html, confirmed } = await register(send);
    expect(confirmed.status).toBe(422);
    expect(await confirmed.text()).toContain("Name is already in use");
    // The same form, with another name, goes through; submitting it twice does not.
    const fields = { pending: pendingId(html), name: "OpenHands for Codertocat 2" };
    const renamed = codeOf(await send(postForm(`${WEB}/settings/apps/confirm`, fields)));
    expect(renamed.code).toBeTruthy();
    expect((await send(postForm(`${WEB}/settings/apps/confirm`, fields))).status).toBe(404);
  });

  it("keeps a query the redirect_url already has", async () => {
    const { send } = setup();
    const { confirmed } = await register(send, undefined, "s1", {
      ...MANIFEST,
      name: "Q",
      redirect_url: `${WORKER}/setup/callback?from=manifest`,
    });
    const { location } = codeOf(confirmed);
    expect(location.searchParams.get("from")).toBe("manifest");
    expect(location.searchParams.get("state")).toBe("s1");
  });

  it("hands the converted App to the API fake: its JWT works there, the old one no longer does", async () => {
    const { api, send, oldPrivateKey } = setup();
    const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    expect((await send(new Request(`${API}/app`, auth(jwt("123456", oldPrivateKey))))).status).toBe(200);

    const { code } = codeOf((await register(send, "/organizations/acme/settings/apps/new")).confirmed);
    const app = (await (
      await send(new Request(`${API}/app-manifests/${code}/conversions`, { method: "POST" }))
    ).json()) as RegisteredApp;
    expect(api.appId).toBe(String(app.id));

    expect((await send(new Request(`${API}/app`, auth(jwt("123456", oldPrivateKey))))).status).toBe(401);
    expect((await send(new Request(`${API}/app`, auth(jwt(app.id, oldPrivateKey))))).status).toBe(401);
    for (const iss of [app.id, app.client_id]) {
      const me = await send(new Request(`${API}/app`, auth(jwt(iss, app.pem))));
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({
        id: app.id,
        slug: app.slug,
        name: app.name,
        client_id: app.client_id,
        owner: { login: "acme", type: "Organization" },
      });
    }
    const token = await send(
      new Request(`${API}/app/installations/42/access_tokens`, { method: "POST", ...auth(jwt(app.id, app.pem)) }),
    );
    expect(token.status).toBe(201);
    const { token: installationToken } = (await token.json()) as { token: string };
    const permission = await send(
      new Request(`${API}/repos/acme/x/collaborators/someone/permission`, {
        headers: { authorization: `token ${installationToken}` },
      }),
    );
    expect(permission.status).toBe(200);
  });
});
