import { mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page, Response as PageResponse, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "../../demo/worker";
import type { RegisteredApp } from "../support/fakes/github-web";
import { issueCommentPayload, signedDelivery } from "../support/webhook";
import { ensureChromium, launchChromium } from "./chromium";
import { type SetupWorld, startSetupWorld } from "./setup-world";

/**
 * /setup in a real browser: Debian's chromium walks the Worker's setup pages
 * and a stand-in of github.com's App manifest flow (test/support/fakes/github-web.ts),
 * with the Worker under `wrangler dev` and started without any App. The steps
 * share one Worker, in order: the refusals and the failed callbacks come before
 * the one that succeeds, so that each error is shown to leave nothing behind.
 * Every step leaves a screenshot in test-artifacts/setup/. github.com's stand-in
 * is another site than the Worker (setup-world.ts), so the session cookie's
 * SameSite=Strict is put to the test on GitHub's redirect back.
 *
 *   npx vitest run --config vitest.node.config.mts test/browser/setup.browser.test.ts
 */

const SHOTS = fileURLToPath(new URL("../../test-artifacts/setup/", import.meta.url));
const CRON = "*/3 * * * *"; // as in wrangler.toml
const PERMISSIONS = {
  issues: "write",
  pull_requests: "write",
  contents: "read",
  metadata: "read",
  checks: "read",
  actions: "read",
};
const EVENTS = ["issues", "issue_comment", "pull_request", "pull_request_review", "pull_request_review_comment"];

/** The few DOM shapes read in the page (this project's TypeScript has no DOM library). */
interface DomInput {
  type: string;
  name: string;
  id: string;
  value: string;
}
interface DomForm {
  action: string;
  method: string;
  querySelectorAll(selector: string): Iterable<DomInput>;
  querySelector(selector: string): DomInput | null;
}

const missing = ensureChromium();
if (missing && process.env.CI) throw new Error(`CI must run the browser tests, but ${missing}`);
if (missing) console.warn(`[browser] skipping the /setup browser test: ${missing}`);

describe.skipIf(missing !== undefined)("/setup in a browser", () => {
  let world: SetupWorld;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  /** The main frame's document responses, newest last (redirects included). */
  const documents: PageResponse[] = [];
  /** The Worker's URLs the browser asked for, in order. */
  const workerRequests: string[] = [];
  let failed = false;
  /** Set by the step that succeeds; the later steps build on it. */
  let created: { app: RegisteredApp; callback: string } | undefined;

  beforeAll(async () => {
    // Only this run's screenshots, so a FAILED-… shot is never a stale one.
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    [world, browser] = await Promise.all([startSetupWorld(), launchChromium()]);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("response", (response) => {
      if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) documents.push(response);
    });
    page.on("request", (request) => {
      if (request.url().startsWith(world.worker.url)) workerRequests.push(request.url());
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (failed && world)
      console.error(`[browser] wrangler's log and state are kept in ${world.workDir}:\n${world.worker.logTail(30)}`);
    await world?.stop(failed);
  });

  /** Marks the run failed (so wrangler's log is kept) when the step throws. */
  function step(name: string, body: () => Promise<void>, timeout?: number) {
    it(
      name,
      async () => {
        try {
          await body();
        } catch (error) {
          failed = true;
          await shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
          throw error;
        }
      },
      timeout,
    );
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  }

  const setupUrl = (query = "") => `${world.worker.url}/setup${query}`;

  /** Opens `url`; the status of the document finally shown. */
  async function open(url: string): Promise<number> {
    const response = await page.goto(url, { waitUntil: "load" });
    return documents.at(-1)?.status() ?? response?.status() ?? 0;
  }

  /** Clicks `selector` and waits until a document whose URL passes `arrived` has loaded; its status. */
  async function clickThrough(selector: string, arrived: (url: URL) => boolean): Promise<number> {
    const before = documents.length;
    await Promise.all([page.waitForURL(arrived, { waitUntil: "load" }), page.click(selector)]);
    expect(documents.length, `clicking ${selector} loaded no new page`).toBeGreaterThan(before);
    return documents.at(-1)!.status();
  }

  /** The manifest form as the Worker rendered it: where it posts, and the manifest it carries. */
  async function manifestForm(): Promise<{ action: URL; state: string; manifest: Record<string, any> }> {
    const form = page.locator("#manifest-form");
    const { action, method, hidden, submit } = await form.evaluate((el: unknown) => {
      const f = el as DomForm;
      return {
        action: f.action,
        method: f.method,
        hidden: [...f.querySelectorAll("input")]
          .filter((i) => i.type !== "submit")
          .map((i) => ({ type: i.type, name: i.name, value: i.value })),
        submit: f.querySelector("#create-app")?.type,
      };
    });
    expect(method).toBe("post");
    expect(submit).toBe("submit");
    expect(hidden.map((i) => `${i.type}:${i.name}`)).toEqual(["hidden:manifest"]);
    const url = new URL(action);
    const state = url.searchParams.get("state") ?? "";
    expect(state.length, "the form's state").toBeGreaterThanOrEqual(16);
    return { action: url, state, manifest: JSON.parse(hidden[0]!.value) };
  }

  function expectManifest(manifest: Record<string, any>): void {
    const origin = world.worker.url;
    expect(typeof manifest.name === "string" && manifest.name.length > 0, "the manifest names the App").toBe(true);
    expect(manifest).toMatchObject({
      url: origin,
      hook_attributes: { url: `${origin}/api/github/webhooks`, active: true },
      redirect_url: `${origin}/setup/callback`,
      public: false,
      default_permissions: PERMISSIONS,
    });
    expect([...manifest.default_events].sort()).toEqual([...EVENTS].sort());
  }

  /**
   * Confirms on GitHub's page, and holds the redirect back to the Worker: the
   * confirmation is sent on the browser's behalf without following GitHub's
   * 302 (a route cannot catch the redirected request itself), the browser shows
   * a placeholder, and the test gets the callback URL.
   */
  async function confirmHoldingCallback(): Promise<URL> {
    let held: string | undefined;
    const isConfirm = (url: URL) => url.href === `${world.webUrl}/settings/apps/confirm`;
    const hold = async (route: Route) => {
      const answer = await route.fetch({ maxRedirects: 0 });
      held = answer.headers().location;
      await route.fulfill({
        status: 200,
        contentType: "text/html",
        body: "<p id='held'>The test holds GitHub's redirect to the Worker.</p>",
      });
    };
    await page.route(isConfirm, hold);
    try {
      await Promise.all([page.waitForURL(isConfirm, { waitUntil: "load" }), page.click("#confirm")]);
    } finally {
      await page.unroute(isConfirm, hold);
    }
    expect(held?.startsWith(`${world.worker.url}/setup/callback?`), `GitHub redirected to ${held}`).toBe(true);
    return new URL(held!);
  }

  /** The Worker's error page: one of the `allowed` statuses, and #error shown with words in it. */
  async function expectErrorPage(status: number, allowed: number[]): Promise<void> {
    const text = (await page.locator("body").innerText()).replace(/\s+/g, " ").trim();
    expect(allowed, `status ${status}; the page says: ${text}`).toContain(status);
    expect(await page.locator("#error").count(), `no #error on the page (status ${status}); it says: ${text}`).toBe(1);
    await expect(page.locator("#error").isVisible()).resolves.toBe(true);
    expect((await page.locator("#error").innerText()).trim().length).toBeGreaterThan(0);
  }

  step("refuses /setup without the right token (403, #error)", async () => {
    // Not set up yet: no App, so the Worker does not call itself healthy.
    const health = await fetch(`${world.worker.url}/healthz`);
    expect(health.status, await health.text()).toBe(503);
    expect(await open(setupUrl("?token=not-the-token"))).toBe(403);
    await expectErrorPage(403, [403]);
    expect(await open(setupUrl())).toBe(403);
    await expectErrorPage(403, [403]);
    await expect(page.locator("#manifest-form").count()).resolves.toBe(0);
    await shot("01-setup-without-token");
  });

  step(
    "the setup link trades the token for a session cookie and a clean URL (303), with the manifest and an organisation form",
    async () => {
      const before = documents.length;
      expect(await open(setupUrl(`?token=${encodeURIComponent(world.setupToken)}`))).toBe(200);
      // The 303 took the token out of the address bar; the page shown is the clean /setup.
      expect(documents.slice(before).map((d) => d.status())).toEqual([303, 200]);
      expect(page.url()).toBe(setupUrl());
      const cookies = await browser.context.cookies(setupUrl());
      expect(cookies).toHaveLength(1);
      const [session] = cookies;
      expect(session).toMatchObject({
        name: "setup_session",
        path: "/setup",
        httpOnly: true,
        secure: true,
        sameSite: "Strict",
      });
      expect(session!.value).not.toContain(world.setupToken);
      expect(session!.expires * 1000 - Date.now()).toBeGreaterThan(3_500_000);
      expect(session!.expires * 1000 - Date.now()).toBeLessThanOrEqual(3_600_000);
      expect(await page.content()).not.toContain(world.setupToken);
      const { action, manifest } = await manifestForm();
      expect(`${action.origin}${action.pathname}`).toBe(`${world.webUrl}/settings/apps/new`);
      expectManifest(manifest);

      const org = await page.locator("#org-form").evaluate((el: unknown) => {
        const f = el as DomForm;
        return {
          method: f.method,
          action: f.action,
          fields: [...f.querySelectorAll("input")].map((i) => ({
            type: i.type,
            name: i.name,
            id: i.id,
            value: i.value,
          })),
        };
      });
      expect(org.method).toBe("get");
      expect(new URL(org.action).pathname).toBe("/setup");
      // The session goes with the cookie: no field carries the token on.
      expect(org.fields).toEqual([expect.objectContaining({ type: "text", name: "org", id: "org" })]);
      await expect(page.locator("#org-continue").isVisible()).resolves.toBe(true);
      await shot("02-setup");
    },
  );

  step("organisation: the manifest goes to /organizations/acme/…; Cancel on GitHub creates nothing", async () => {
    await page.fill("#org", "acme");
    expect(
      await clickThrough("#org-continue", (url) => url.pathname === "/setup" && url.searchParams.get("org") === "acme"),
    ).toBe(200);
    const { action, state, manifest } = await manifestForm();
    expect(`${action.origin}${action.pathname}`).toBe(`${world.webUrl}/organizations/acme/settings/apps/new`);
    expectManifest(manifest);
    await shot("03-setup-organisation");

    const onGitHub = (url: URL) => url.href.startsWith(`${world.webUrl}/organizations/acme/settings/apps/new`);
    expect(await clickThrough("#create-app", onGitHub)).toBe(200);
    expect(new URL(page.url()).searchParams.get("state")).toBe(state);
    await expect(page.locator("#owner").innerText()).resolves.toBe("acme");
    await expect(page.locator("#app-name").inputValue()).resolves.toBe(manifest.name);
    await shot("04-github-confirm-organisation");

    const callbacksBefore = workerRequests.filter((u) => u.includes("/setup/callback")).length;
    expect(
      await clickThrough("#cancel", (url) => url.href === `${world.webUrl}/organizations/acme/settings/apps`),
    ).toBe(200);
    await expect(page.locator("#no-apps").isVisible()).resolves.toBe(true);
    expect(world.web.apps).toHaveLength(0);
    expect(workerRequests.filter((u) => u.includes("/setup/callback")).length).toBe(callbacksBefore);
    await shot("05-github-cancelled");
  });

  step("back at the callback without a code (cancelled) → 400 #error", async () => {
    expect(await open(setupUrl(`?token=${encodeURIComponent(world.setupToken)}`))).toBe(200);
    const { state } = await manifestForm();
    const status = await open(`${world.worker.url}/setup/callback?state=${encodeURIComponent(state)}`);
    await expectErrorPage(status, [400]);
    await shot("06-callback-cancelled");
  });

  let held: URL | undefined;

  step("a callback with a forged state → 400 #error, and the code is not spent", async () => {
    expect(await open(setupUrl(`?token=${encodeURIComponent(world.setupToken)}`))).toBe(200);
    const { state } = await manifestForm();
    expect(await clickThrough("#create-app", (url) => url.href.startsWith(`${world.webUrl}/settings/apps/new`))).toBe(
      200,
    );
    // Registered under the manifest's name, this App stays unused on GitHub and takes the name.
    held = await confirmHoldingCallback();
    expect(held.searchParams.get("state")).toBe(state);
    const code = held.searchParams.get("code")!;
    expect(world.web.appByCode(code)).toBeDefined();

    // Same length, last character changed to another hex digit / letter.
    const forged = new URL(held);
    forged.searchParams.set("state", state.slice(0, -1) + (state.endsWith("0") ? "1" : "0"));
    const status = await open(forged.href);
    await expectErrorPage(status, [400]);
    expect(world.web.appByCode(code)!.codeUsed, "the Worker spent a code whose state it did not issue").toBe(false);
    await shot("07-callback-forged-state");
  });

  step("a callback whose code was already spent → #error (400/409/410), and nothing is kept", async () => {
    expect(held, "the previous step held a callback").toBeDefined();
    const code = held!.searchParams.get("code")!;
    // Somebody else (here: the test) converts the code first.
    const stolen = await fetch(`${world.apiUrl}/app-manifests/${code}/conversions`, { method: "POST" });
    expect(stolen.status).toBe(201);
    const status = await open(held!.href);
    await expectErrorPage(status, [400, 409, 410]);
    const conversions = world.web.requests.filter((r) => r.path === `/app-manifests/${code}/conversions`);
    expect(conversions.length, "the Worker tried the code").toBe(2);
    await shot("08-callback-spent-code");
  });

  step(
    "a callback in a browser without the session: asked again from the Worker's origin, then refused (403)",
    async () => {
      expect(held, "a previous step held a callback").toBeDefined();
      await browser.context.clearCookies();
      const conversions = world.web.requests.filter((r) => r.path.startsWith("/app-manifests/")).length;
      const requestsBefore = workerRequests.length;
      await page.goto(held!.href);
      await page.waitForURL((url) => url.searchParams.get("resumed") === "1", { waitUntil: "load" });
      await expectErrorPage(documents.at(-1)!.status(), [403]);
      expect(await page.locator("#error").innerText()).toContain("This browser holds no setup session");
      expect(workerRequests.slice(requestsBefore).filter((u) => !u.endsWith("/favicon.ico"))).toEqual([
        held!.href,
        `${held!.href}&resumed=1`,
      ]);
      expect(world.web.requests.filter((r) => r.path.startsWith("/app-manifests/")).length).toBe(conversions);
      await shot("08b-callback-without-session");
    },
  );

  step("registers the App: /setup → GitHub → confirm → callback shows #done with the install link", async () => {
    expect(await open(setupUrl(`?token=${encodeURIComponent(world.setupToken)}`))).toBe(200);
    const { state, manifest } = await manifestForm();
    expectManifest(manifest);
    await shot("09-setup");

    expect(await clickThrough("#create-app", (url) => url.href.startsWith(`${world.webUrl}/settings/apps/new`))).toBe(
      200,
    );
    expect(new URL(page.url()).searchParams.get("state")).toBe(state);
    await expect(page.locator("#owner").innerText()).resolves.toBe("Codertocat");
    await expect(page.locator("#app-name").inputValue()).resolves.toBe(manifest.name);
    await shot("10-github-confirm");

    // App names are unique on GitHub: the abandoned App above holds this one, as another
    // operator's Worker of the same name would. GitHub asks for another, and the
    // install link must then follow the App's real slug, not the manifest's name.
    expect(await clickThrough("#confirm", (url) => url.href === `${world.webUrl}/settings/apps/confirm`)).toBe(422);
    await expect(page.locator("#error").innerText()).resolves.toContain("Name is already in use");
    await page.fill("#app-name", `${manifest.name} two`.slice(0, 34));
    await shot("10b-github-name-in-use");

    const conversionsBefore = world.web.conversions.length;
    const requestsBefore = workerRequests.length;
    // GitHub's redirect is cross-site, so it comes without the Strict cookie; the Worker's page asks again
    // from its own origin (a refresh), and that request carries it.
    const status = await clickThrough(
      "#confirm",
      (url) => url.origin === world.worker.url && url.searchParams.get("resumed") === "1",
    );
    const app = world.web.apps.at(-1)!;
    expect(app.name).toBe(`${manifest.name} two`.slice(0, 34));
    expect(app.slug).not.toBe(world.web.apps[0]!.slug);
    const redirected = new URL(app.redirectedTo!);
    expect(`${redirected.origin}${redirected.pathname}`).toBe(`${world.worker.url}/setup/callback`);
    expect(Object.fromEntries(redirected.searchParams)).toEqual({ code: app.code, state });
    expect(workerRequests.slice(requestsBefore).filter((u) => !u.endsWith("/favicon.ico"))).toEqual([
      app.redirectedTo,
      `${app.redirectedTo}&resumed=1`,
    ]);
    expect(status, `callback page: ${await page.locator("body").innerText()}`).toBe(200);
    await expect(page.locator("#done").isVisible()).resolves.toBe(true);
    const install = page.locator("#done #install");
    await expect(install.getAttribute("href")).resolves.toBe(`${world.webUrl}/apps/${app.slug}/installations/new`);
    // Asked by its own name, the slug GitHub gave it, not by OpenHands' own App's @openhands
    await expect(page.locator("#done #mention").innerText()).resolves.toBe(`@${app.slug}`);
    await expect(page.locator("#done #label").innerText()).resolves.toBe(app.slug);
    expect(world.web.conversions.slice(conversionsBefore)).toEqual([app]);
    expect(world.github.appId).toBe(String(app.id));
    // Setup is over: the session with it.
    expect(await browser.context.cookies(setupUrl())).toEqual([]);
    await shot("11-setup-done");
    created = { app, callback: app.redirectedTo! };

    expect(await clickThrough("#install", (url) => url.href.startsWith(`${world.webUrl}/apps/`))).toBe(200);
    await expect(page.locator("#install-page").isVisible()).resolves.toBe(true);
    await shot("12-github-install");
  });

  step("afterwards /setup is closed (410 #closed), with or without the token", async () => {
    expect(created, "the App was registered").toBeDefined();
    for (const query of [`?token=${encodeURIComponent(world.setupToken)}`, "", "?token=wrong"]) {
      expect(await open(setupUrl(query)), `/setup${query}`).toBe(410);
      await expect(page.locator("#closed").isVisible()).resolves.toBe(true);
      expect(await page.locator("#closed").innerText()).toMatch(/setup is closed/i);
      await expect(page.locator("#manifest-form").count()).resolves.toBe(0);
    }
    await shot("13-setup-closed");
  });

  step("the successful callback again (its code reused) → #error (400/409/410), the App in use unchanged", async () => {
    expect(created, "the App was registered").toBeDefined();
    const conversions = world.web.requests.filter((r) => r.path.startsWith("/app-manifests/")).length;
    const status = await open(created!.callback);
    await shot("14-callback-reused-code");
    expect(
      world.web.requests.filter((r) => r.path.startsWith("/app-manifests/")).length,
      "a conversion after setup",
    ).toBe(conversions);
    expect(world.github.appId, "the App in use did not change").toBe(String(created!.app.id));
    await expectErrorPage(status, [400, 409, 410]);
  });

  step("no request after the setup link carried the token, and the Worker never logged it", async () => {
    const withToken = workerRequests.filter((u) => u.includes(world.setupToken));
    expect(withToken.length).toBeGreaterThan(0);
    for (const url of withToken.map((u) => new URL(u))) {
      expect(url.pathname, url.href).toBe("/setup");
      expect([...url.searchParams.keys()], url.href).toEqual(["token"]);
    }
    // Neither the Worker's lines nor wrangler dev's (which name the path, not the query) show it.
    const log = world.worker.logTail(100_000);
    expect(log).toContain("GET /setup 303 See Other");
    expect(log).not.toContain(world.setupToken);
  });

  step(
    "the Worker is live: /healthz 200, a webhook signed with the new secret is accepted and starts a conversation",
    async () => {
      expect(created, "the App was registered").toBeDefined();
      const { app } = created!;
      const health = await fetch(`${world.worker.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true });

      const payload = issueCommentPayload(`@${app.slug} the date parser fails on leap years, please fix it`);
      const url = `${world.worker.url}/api/github/webhooks`;
      const refused = await fetch(
        await signedDelivery("issue_comment", payload, { secret: "not-the-webhook-secret-0123456789", url }),
      );
      expect(refused.status).toBe(401);

      const accepted = await fetch(await signedDelivery("issue_comment", payload, { secret: app.webhook_secret, url }));
      expect(accepted.status, await accepted.text()).toBe(202);
      const handled = await world.worker.waitForLogEvent(["webhook.handled", "webhook.failed"], 20_000);
      expect(handled, world.worker.logTail()).toMatchObject({ event: "webhook.handled", outcome: "started" });

      // The cron follows the start until OpenHands has a conversation.
      const deadline = Date.now() + 20_000;
      while (world.openhands.conversations.size === 0 && Date.now() < deadline) {
        await world.worker.scheduled(CRON);
        await sleep(250);
      }
      expect(world.openhands.startTasks.size).toBe(1);
      expect(world.openhands.conversations.size, world.worker.logTail()).toBe(1);
      // Every GitHub call was made as the new App: its JWT for the token, the token for the rest.
      expect(world.github.find("POST", /^\/app\/installations\/\d+\/access_tokens$/).length).toBeGreaterThan(0);
      expect(world.github.issuedTokens.size).toBeGreaterThan(0);
    },
    60_000,
  );
});
