import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { FakeGitHub } from "./github";
import { FakeBase, json } from "./recorder";

/**
 * A stand-in for the pages of github.com that register a GitHub App from a
 * manifest, and for the API call that hands the new App's credentials out, as
 * GitHub documents the flow ("Registering a GitHub App from a manifest"):
 *
 * 1. A page POSTs a form with one field, `manifest` (JSON), to
 *    `/settings/apps/new?state=S` (the signed-in person's App) or
 *    `/organizations/{org}/settings/apps/new?state=S` (an organisation's).
 *    GitHub shows the App to be created, its name editable; the person confirms
 *    (`#confirm`) or cancels (`#cancel`, back to the Apps list: nothing is created
 *    and nobody is redirected).
 * 2. On confirmation GitHub registers the App and redirects (302) to the
 *    manifest's `redirect_url` with a temporary `code` and the `state`.
 * 3. `POST /app-manifests/{code}/conversions` on the API (no authentication)
 *    answers 201 with the App and its `client_secret`, `webhook_secret` and `pem`.
 *    A code works once and for an hour; after that, or never issued, 404.
 *
 * Web pages answer on `webUrl`, the conversion on `apiUrl` (the two may share an
 * origin). Requests this fake does not know are left to the next handler
 * (`undefined`), so one loopback server can serve it in front of FakeGitHub.
 */

export interface ManifestAccount {
  login: string;
  id: number;
  type: "User" | "Organization";
}

/** An App registered through the flow, with the secrets GitHub keeps for it. */
export interface RegisteredApp {
  id: number;
  slug: string;
  node_id: string;
  name: string;
  owner: ManifestAccount;
  description: string;
  external_url: string;
  html_url: string;
  created_at: string;
  updated_at: string;
  permissions: Record<string, string>;
  events: string[];
  client_id: string;
  client_secret: string;
  webhook_secret: string;
  /** The private key, PKCS#1 PEM, as GitHub hands it out. */
  pem: string;
  /** Its public half (SPKI PEM), for whoever verifies the App's JWTs. */
  publicKeyPem: string;
  /** The manifest it was registered from, as parsed. */
  manifest: Manifest;
  /** The temporary code and what became of it. */
  code: string;
  codeExpiresAt: number;
  codeUsed: boolean;
  /** Where GitHub sent the browser after registering it (undefined: no redirect_url). */
  redirectedTo?: string;
}

export interface Manifest {
  name?: string;
  url: string;
  hook_attributes?: { url: string; active?: boolean };
  redirect_url?: string;
  callback_urls?: string[];
  setup_url?: string;
  description?: string;
  public?: boolean;
  default_events?: string[];
  default_permissions?: Record<string, string>;
  request_oauth_on_install?: boolean;
  setup_on_update?: boolean;
}

export interface FakeGitHubWebOptions {
  /** The origin of github.com's stand-in (GITHUB_URL). */
  webUrl: string;
  /** The origin of api.github.com's stand-in (GITHUB_API_URL). */
  apiUrl: string;
  /** The person signed in to GitHub in the browser; they own the Apps they register for themselves. */
  user?: { login: string; id: number };
  /** Given the converted App's credentials, so that its JWTs and tokens work there (FakeGitHub.useApp). */
  api?: FakeGitHub;
  /** The clock codes expire by (ms since the epoch). */
  now?: () => number;
}

/** A manifest posted and not yet confirmed or cancelled. */
interface Pending {
  manifest: Manifest;
  state: string | null;
  owner: ManifestAccount;
}

const CODE_LIFETIME_MS = 60 * 60 * 1000;
const DOCS = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest";
const ACCESS_LEVELS = new Set(["read", "write", "admin"]);
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

export class FakeGitHubWeb extends FakeBase {
  readonly webUrl: string;
  readonly apiUrl: string;
  readonly user: ManifestAccount;
  /** Every App registered, oldest first. */
  readonly apps: RegisteredApp[] = [];
  /** Conversions answered 201, oldest first (each code at most once). */
  readonly conversions: RegisteredApp[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly api?: FakeGitHub;
  private readonly now: () => number;
  private nextAppId = 900_001;
  private nextOrgId = 7_000_001;
  private readonly orgIds = new Map<string, number>();

  constructor(options: FakeGitHubWebOptions) {
    super();
    this.webUrl = options.webUrl.replace(/\/+$/, "");
    this.apiUrl = options.apiUrl.replace(/\/+$/, "");
    const user = options.user ?? { login: "Codertocat", id: 21031067 };
    this.user = { ...user, type: "User" };
    this.api = options.api;
    this.now = options.now ?? Date.now;
  }

  /** The App whose code `code` is, if any was issued. */
  appByCode(code: string): RegisteredApp | undefined {
    return this.apps.find((app) => app.code === code);
  }

  async handle(request: Request): Promise<Response | undefined> {
    const url = new URL(request.url);
    const method = request.method;
    const api = this.pathUnder(request.url, this.apiUrl);
    const web = this.pathUnder(request.url, this.webUrl);
    let match: RegExpMatchArray | null;

    if (api !== undefined && method === "POST" && (match = api.match(/^\/app-manifests\/([^/]+)\/conversions$/))) {
      await this.record(request);
      return this.convert(decodeURIComponent(match[1]!));
    }
    if (web === undefined) return undefined;

    if (method === "POST" && (match = web.match(/^(?:\/organizations\/([^/]+))?\/settings\/apps\/new$/))) {
      const recorded = await this.record(request);
      return this.newAppPage(
        match[1] === undefined ? undefined : decodeURIComponent(match[1]),
        recorded.body,
        url.searchParams.get("state"),
      );
    }
    if (method === "POST" && web === "/settings/apps/confirm") {
      const recorded = await this.record(request);
      return this.confirm(recorded.body);
    }
    if (method === "GET" && (match = web.match(/^(?:\/organizations\/([^/]+))?\/settings\/apps$/))) {
      await this.record(request);
      const org = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
      return this.appsPage(org);
    }
    if (method === "GET" && (match = web.match(/^\/apps\/([^/]+)\/installations\/new$/))) {
      await this.record(request);
      return this.installPage(decodeURIComponent(match[1]!));
    }
    return undefined;
  }

  /** The path of `url` below `base`, or undefined when it is not below it. */
  private pathUnder(url: string, base: string): string | undefined {
    const parsed = new URL(url);
    const root = new URL(base);
    if (parsed.origin !== root.origin) return undefined;
    const prefix = root.pathname.replace(/\/$/, "");
    if (prefix && !parsed.pathname.startsWith(`${prefix}/`)) return undefined;
    return parsed.pathname.slice(prefix.length);
  }

  /** Step 1: the manifest arrives; GitHub shows what it will register, for the person to confirm. */
  private newAppPage(org: string | undefined, body: unknown, state: string | null): Response {
    if (org !== undefined && !LOGIN.test(org))
      return page(404, "Page not found", `<p id="error">There is no organisation called ${esc(org)}.</p>`);
    const form = new URLSearchParams(typeof body === "string" ? body : "");
    const parsed = parseManifest(form.get("manifest"));
    if ("problems" in parsed) {
      return page(
        422,
        "Invalid GitHub App manifest",
        `<div id="error" class="flash error"><p>The GitHub App manifest is invalid:</p><ul>${parsed.problems.map((p) => `<li>${esc(p)}</li>`).join("")}</ul></div>`,
      );
    }
    const owner = org === undefined ? this.user : this.organization(org);
    const id = randomBytes(12).toString("hex");
    this.pending.set(id, { manifest: parsed.manifest, state, owner });
    return this.confirmPage(id, this.pending.get(id)!, parsed.manifest.name ?? "");
  }

  private confirmPage(id: string, pending: Pending, name: string, problem?: string): Response {
    const { manifest, owner } = pending;
    const permissions = Object.entries(manifest.default_permissions ?? {});
    const rows: [string, string][] = [
      ["Homepage URL", manifest.url],
      ["Webhook URL", manifest.hook_attributes?.url ?? "(none)"],
      ["Webhook active", String(manifest.hook_attributes?.active ?? true)],
      ["Redirect URL", manifest.redirect_url ?? "(none)"],
      ["Visibility", manifest.public ? "Any account" : `Only on ${owner.login}`],
      ["Permissions", permissions.length ? permissions.map(([k, v]) => `${k}: ${v}`).join(", ") : "(none)"],
      ["Events", (manifest.default_events ?? []).join(", ") || "(none)"],
    ];
    const cancel =
      owner.type === "Organization"
        ? `/organizations/${encodeURIComponent(owner.login)}/settings/apps`
        : "/settings/apps";
    return page(
      problem ? 422 : 200,
      `Create GitHub App for ${owner.login}`,
      `${problem ? `<div id="error" class="flash error">${esc(problem)}</div>` : ""}
      <p>Signed in as <strong id="signed-in">${esc(this.user.login)}</strong>. The App will belong to
        <strong id="owner">${esc(owner.login)}</strong> (${owner.type === "Organization" ? "organisation" : "personal account"}).</p>
      <form id="confirm-form" method="post" action="${esc(this.webUrl)}/settings/apps/confirm">
        <input type="hidden" name="pending" value="${esc(id)}">
        <label for="app-name">GitHub App name</label>
        <input id="app-name" name="name" type="text" value="${esc(name)}" required>
        <table id="manifest-summary">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>
        <p><button id="confirm" type="submit" class="primary">Create GitHub App for ${esc(owner.login)}</button>
        <a id="cancel" href="${esc(this.webUrl + cancel)}">Cancel</a></p>
      </form>`,
    );
  }

  /** Step 2: registered; back to the manifest's redirect_url with a code that works once, for an hour. */
  private confirm(body: unknown): Response {
    const form = new URLSearchParams(typeof body === "string" ? body : "");
    const id = form.get("pending") ?? "";
    const pending = this.pending.get(id);
    if (!pending)
      return page(
        404,
        "Page not found",
        `<p id="error">This App registration has expired or was already submitted.</p>`,
      );
    const name = (form.get("name") ?? "").trim();
    if (!name) return this.confirmPage(id, pending, name, "Name can't be blank");
    if (name.length > 34) return this.confirmPage(id, pending, name, "Name is too long (maximum is 34 characters)");
    const slug = slugOf(name);
    if (!slug) return this.confirmPage(id, pending, name, "Name must contain letters or digits");
    // App names are unique across GitHub, compared by slug.
    if (this.apps.some((app) => app.slug === slug))
      return this.confirmPage(id, pending, name, "Name is already in use");
    this.pending.delete(id);

    const app = this.register(pending, name, slug);
    const target = pending.manifest.redirect_url;
    if (!target) return Response.redirect(`${this.webUrl}/settings/apps/${app.slug}`, 302);
    const redirect = new URL(target);
    redirect.searchParams.set("code", app.code);
    if (pending.state !== null) redirect.searchParams.set("state", pending.state);
    app.redirectedTo = redirect.toString();
    return new Response(null, { status: 302, headers: { location: app.redirectedTo } });
  }

  private register({ manifest, owner }: Pending, name: string, slug: string): RegisteredApp {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const id = this.nextAppId++;
    const now = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    const app: RegisteredApp = {
      id,
      slug,
      node_id: `A_kwHO${Buffer.from(String(id)).toString("base64url")}`,
      name,
      owner,
      description: manifest.description ?? "",
      external_url: manifest.url,
      html_url: `${this.webUrl}/apps/${slug}`,
      created_at: now,
      updated_at: now,
      permissions: { metadata: "read", ...(manifest.default_permissions ?? {}) },
      events: [...(manifest.default_events ?? [])],
      client_id: `Iv23li${randomBytes(7).toString("hex")}`,
      client_secret: randomBytes(20).toString("hex"),
      webhook_secret: randomBytes(20).toString("hex"),
      pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      manifest,
      code: randomBytes(20).toString("hex"),
      codeExpiresAt: this.now() + CODE_LIFETIME_MS,
      codeUsed: false,
    };
    this.apps.push(app);
    return app;
  }

  /** Step 3: the code, once, for the App and its secrets. */
  private convert(code: string): Response {
    const app = this.appByCode(code);
    if (!app || app.codeUsed || this.now() >= app.codeExpiresAt) {
      return json({ message: "Not Found", documentation_url: DOCS, status: "404" }, 404);
    }
    app.codeUsed = true;
    this.conversions.push(app);
    this.api?.useApp({
      id: app.id,
      slug: app.slug,
      name: app.name,
      clientId: app.client_id,
      owner: app.owner,
      publicKeyPem: app.publicKeyPem,
    });
    const {
      publicKeyPem: _k,
      manifest: _m,
      code: _c,
      codeExpiresAt: _e,
      codeUsed: _u,
      redirectedTo: _r,
      ...view
    } = app;
    return json(
      {
        ...view,
        owner: {
          login: app.owner.login,
          id: app.owner.id,
          node_id: `${app.owner.type === "User" ? "U" : "O"}_kgDO${Buffer.from(String(app.owner.id)).toString("base64url")}`,
          avatar_url: `https://avatars.githubusercontent.com/u/${app.owner.id}?v=4`,
          html_url: `${this.webUrl}/${app.owner.login}`,
          type: app.owner.type,
          site_admin: false,
        },
      },
      201,
    );
  }

  /** Where Cancel leads: the account's Apps, as registered so far. */
  private appsPage(org: string | undefined): Response {
    const login = org ?? this.user.login;
    const apps = this.apps.filter((app) => app.owner.login.toLowerCase() === login.toLowerCase());
    return page(
      200,
      `GitHub Apps of ${login}`,
      `<ul id="apps">${apps.map((app) => `<li><a href="${esc(app.html_url)}">${esc(app.name)}</a></li>`).join("")}</ul>
      ${apps.length ? "" : `<p id="no-apps">No GitHub Apps yet.</p>`}`,
    );
  }

  /** Where an App's install link leads; installing is not part of this fake. */
  private installPage(slug: string): Response {
    const app = this.apps.find((a) => a.slug === slug);
    if (!app) return page(404, "Page not found", `<p id="error">No GitHub App called ${esc(slug)}.</p>`);
    return page(
      200,
      `Install ${app.name}`,
      `<p id="install-page">Install <strong>${esc(app.name)}</strong> on ${esc(this.user.login)} or an organisation.</p>`,
    );
  }

  private organization(login: string): ManifestAccount {
    const key = login.toLowerCase();
    if (!this.orgIds.has(key)) this.orgIds.set(key, this.nextOrgId++);
    return { login, id: this.orgIds.get(key)!, type: "Organization" };
  }
}

/** GitHub's slug: lower case, runs of anything but letters and digits become one dash. */
function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** The manifest's parameters as GitHub documents them; anything else is a 422. */
function parseManifest(text: string | null): { manifest: Manifest } | { problems: string[] } {
  if (text === null || text.trim() === "") return { problems: ["manifest is missing"] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problems: ["manifest is not valid JSON"] };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { problems: ["manifest must be a JSON object"] };
  const m = value as Record<string, unknown>;
  const problems: string[] = [];
  const isUrl = (v: unknown) => {
    if (typeof v !== "string") return false;
    try {
      return ["http:", "https:"].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  };
  if (m.name !== undefined && typeof m.name !== "string") problems.push("name must be a string");
  if (!isUrl(m.url)) problems.push("url is required and must be an http(s) URL");
  if (m.hook_attributes !== undefined) {
    const hook = m.hook_attributes as Record<string, unknown> | null;
    if (typeof hook !== "object" || hook === null) problems.push("hook_attributes must be an object");
    else {
      if (!isUrl(hook.url)) problems.push("hook_attributes.url is required and must be an http(s) URL");
      if (hook.active !== undefined && typeof hook.active !== "boolean")
        problems.push("hook_attributes.active must be a boolean");
    }
  }
  for (const key of ["redirect_url", "setup_url"] as const) {
    if (m[key] !== undefined && !isUrl(m[key])) problems.push(`${key} must be an http(s) URL`);
  }
  if (m.callback_urls !== undefined && !(Array.isArray(m.callback_urls) && m.callback_urls.every(isUrl))) {
    problems.push("callback_urls must be a list of http(s) URLs");
  }
  for (const key of ["public", "request_oauth_on_install", "setup_on_update"] as const) {
    if (m[key] !== undefined && typeof m[key] !== "boolean") problems.push(`${key} must be a boolean`);
  }
  if (m.description !== undefined && typeof m.description !== "string") problems.push("description must be a string");
  if (m.default_permissions !== undefined) {
    const perms = m.default_permissions;
    if (typeof perms !== "object" || perms === null || Array.isArray(perms))
      problems.push("default_permissions must be an object");
    else {
      for (const [name, level] of Object.entries(perms)) {
        if (typeof level !== "string" || !ACCESS_LEVELS.has(level))
          problems.push(`default_permissions.${name} must be read, write or admin`);
      }
    }
  }
  if (
    m.default_events !== undefined &&
    !(Array.isArray(m.default_events) && m.default_events.every((e) => typeof e === "string" && e))
  ) {
    problems.push("default_events must be a list of event names");
  }
  // GitHub subscribes an App to events only if it holds a permission that covers them.
  if (Array.isArray(m.default_events) && m.default_events.length && problems.length === 0) {
    const perms = (m.default_permissions ?? {}) as Record<string, string>;
    const needs: Record<string, string> = {
      issues: "issues",
      issue_comment: "issues",
      pull_request: "pull_requests",
      pull_request_review: "pull_requests",
      pull_request_review_comment: "pull_requests",
      push: "contents",
    };
    for (const event of m.default_events as string[]) {
      const needed = needs[event];
      if (needed && !perms[needed] && !(event === "issue_comment" && perms.pull_requests)) {
        problems.push(`default_events: ${event} needs the ${needed} permission`);
      }
    }
  }
  return problems.length ? { problems } : { manifest: m as unknown as Manifest };
}

function page(status: number, title: string, body: string): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · GitHub (stand-in)</title>
<style>
  body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #1f2328; }
  header { background: #24292f; color: #fff; padding: 12px 24px; font-weight: 600; }
  main { max-width: 720px; margin: 24px auto; padding: 0 16px; }
  h1 { font-size: 24px; font-weight: 400; border-bottom: 1px solid #d0d7de; padding-bottom: 8px; }
  label { display: block; font-weight: 600; margin: 16px 0 4px; }
  input[type=text] { width: 100%; padding: 5px 12px; border: 1px solid #d0d7de; border-radius: 6px; font-size: 14px; box-sizing: border-box; }
  table { border-collapse: collapse; margin: 16px 0; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-top: 1px solid #d0d7de; vertical-align: top; }
  th { width: 30%; color: #59636e; font-weight: 600; }
  button.primary { background: #1f883d; color: #fff; border: 1px solid rgba(31,35,40,.15); border-radius: 6px; padding: 5px 16px; font-size: 14px; font-weight: 500; cursor: pointer; }
  #cancel { margin-left: 12px; }
  .flash.error { background: #ffebe9; border: 1px solid #ff818266; border-radius: 6px; padding: 8px 16px; color: #82071e; }
</style></head>
<body><header>GitHub <small>(test stand-in)</small></header><main><h1>${esc(title)}</h1>
${body}
</main></body></html>`;
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
