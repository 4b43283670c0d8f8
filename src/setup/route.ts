import { type Context, Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { DEFAULT_UPSTREAM_TIMEOUT_MS, githubOrigins, isHttpsOrLoopback, type WorkerEnv } from "../config";
import { rememberAppIdentity } from "../github/app-identity";
import { anonymousClient } from "../github/client";
import { httpStatus } from "../http-status";
import { isObject } from "../is-object";
import { log } from "../log";
import { collisionWarnings } from "../openhands/github-app";
import { deploymentWords } from "../trigger/words";
import { type AppCredentials, hasStoredCredentials, storeCredentials } from "./credentials";
import { takeConversionLock } from "./lock";
import { appManifest, newAppUrl } from "./manifest";
import { closedPage, donePage, errorPage, resumePage, shortTokenPage, startPage } from "./pages";
import { endSession, sessionOf, startSession } from "./session";
import { isValidState, makeState, sameText } from "./state";

/**
 * `/setup`: GitHub's App manifest flow (as Probot apps do it). The operator opens
 * the link `npm run deploy` printed (`/setup?token=…`); the Worker trades the
 * token for a session cookie (./session.ts) and sends the browser on to a clean
 * `/setup`. One button makes GitHub create the App with everything preset, and
 * GitHub sends back a code that this Worker turns into the App's credentials
 * and keeps. Closed as soon as the Worker has an App, so nobody else can claim it.
 */
type SetupEnv = { Bindings: WorkerEnv; Variables: { token: string } };
export const setupRoute = new Hono<SetupEnv>();

/** Once the App exists the token is the key its credentials are sealed with: guessable is not good enough. */
const SETUP_TOKEN_MIN_CHARS = 32;
const START_OVER =
  "To start over, delete the App on GitHub, remove the Worker's GITHUB_APP_* secrets or its stored credentials (npx wrangler kv key delete app:credentials --binding TASKS --remote), and open the setup link again.";
const NO_SESSION =
  "This browser holds no setup session: open the setup link printed by npm run deploy (…/setup?token=…) in this browser, and start from there. A session lasts an hour.";

// Hono's secure headers (no Referer, for the callback's URL carries GitHub's code; no framing; no sniffing),
// with a policy that lets the pages do only what they do: inline styles, and forms to /setup and to GitHub.
setupRoute.use((c, next) =>
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: ["'unsafe-inline'"],
      formAction: ["'self'", githubOrigins(c.env).GITHUB_URL],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  })(c, next),
);
// Nothing here may be cached.
setupRoute.use(async (c, next) => {
  await next();
  c.header("Cache-Control", "no-store");
});

/** Every setup page: closed once set up; off without a long enough token, or with GitHub over plain http. */
setupRoute.use(async (c, next) => {
  if (await isSetUp(c.env)) {
    if (c.req.path.endsWith("/callback")) {
      return c.html(
        errorPage("Setup is closed", `This Worker already has its GitHub App; this code was not used. ${START_OVER}`),
        410,
      );
    }
    return c.html(closedPage(), 410);
  }
  const token = c.env.SETUP_TOKEN?.trim();
  if (!token) {
    return c.html(
      errorPage(
        "Setup is not enabled",
        "Set the SETUP_TOKEN secret (npm run deploy does it and prints the setup link).",
      ),
      403,
    );
  }
  if (token.length < SETUP_TOKEN_MIN_CHARS) return c.html(shortTokenPage(SETUP_TOKEN_MIN_CHARS), 403);
  for (const [name, value] of Object.entries(githubOrigins(c.env))) {
    if (!isHttpsOrLoopback(value)) {
      return c.html(
        errorPage(
          `${name} is not https`,
          `${name} is ${value}: setup would fetch the App's private key from GitHub over plain http. Set it to an https URL (http only for localhost) and open the setup link again.`,
        ),
        500,
      );
    }
  }
  c.set("token", token);
  await next();
});

async function isSetUp(env: WorkerEnv): Promise<boolean> {
  return Boolean(env.GITHUB_APP_ID?.trim()) || (await hasStoredCredentials(env.TASKS));
}

setupRoute.get("/", async (c) => {
  const token = c.var.token;
  const offered = c.req.query("token");
  const org = c.req.query("org")?.trim() || undefined;
  if (org !== undefined && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(org)) {
    return c.html(
      errorPage("Not an organisation login", "An organisation login has letters, digits and dashes only."),
      400,
    );
  }
  if (offered !== undefined) return exchangeToken(c, offered, org);
  const session = await sessionOf(c, token);
  if (!session) return c.html(errorPage("Not allowed", NO_SESSION), 403);
  const origin = new URL(c.req.url).origin;
  const action = newAppUrl(githubOrigins(c.env).GITHUB_URL, org, await makeState(token, session));
  const gitIdentity = c.env.GIT_IDENTITY?.trim().toLowerCase() === "app" ? "app" : "openhands";
  return c.html(startPage({ manifest: appManifest(origin, gitIdentity), action, org }));
});

/**
 * The printed link: the token becomes a session cookie, and a 303 takes it out
 * of the address bar. A session this browser already holds is kept, since a
 * GitHub page still open in another tab carries a state bound to it.
 */
async function exchangeToken(c: Context<SetupEnv>, offered: string, org: string | undefined) {
  const token = c.var.token;
  if (!sameText(offered, token)) {
    return c.html(
      errorPage("Not allowed", "Open the setup link printed by npm run deploy: it carries the setup token."),
      403,
    );
  }
  if (!(await sessionOf(c, token))) await startSession(c, token);
  return c.redirect(org ? `/setup?org=${encodeURIComponent(org)}` : "/setup", 303);
}

setupRoute.get("/callback", async (c) => {
  const token = c.var.token;
  const session = await sessionOf(c, token);
  if (!session) {
    // GitHub's redirect is started by another site, so the SameSite=Strict cookie was left out: ask again from here.
    if (c.req.query("resumed") === undefined) {
      const again = new URL(c.req.url);
      again.searchParams.set("resumed", "1");
      return c.html(resumePage(`${again.pathname}${again.search}`));
    }
    return c.html(errorPage("Not allowed", NO_SESSION), 403);
  }
  const code = c.req.query("code");
  if (!code) {
    return c.html(
      errorPage(
        "No App was created",
        "GitHub sent no code: the App was not created (the flow was cancelled?). Start again from the setup link.",
      ),
      400,
    );
  }
  if (!(await isValidState(token, session, c.req.query("state")))) {
    return c.html(
      errorPage(
        "This link did not come from this Worker",
        "Its state is missing, forged, made for another browser, or more than an hour old. Start again from the setup link.",
      ),
      400,
    );
  }
  const release = await takeConversionLock(c.env.TASKS);
  if (!release) {
    log("info", "setup.callback_locked");
    return c.html(
      errorPage(
        "Setup is already being finished",
        "Another callback from GitHub is turning its code into this Worker's App right now (the page opened twice?), so this one stopped and its code was not used. Open /setup in a minute: it says closed once the Worker has its App. If GitHub created more than one App for this Worker, keep the one the finished setup page names and delete the others (GitHub → Settings → Developer settings → GitHub Apps).",
      ),
      409,
    );
  }
  try {
    return await convertAndStore(c, code);
  } finally {
    await release();
  }
});

async function convertAndStore(c: Context<SetupEnv>, code: string) {
  let credentials: AppCredentials & { name: string };
  try {
    credentials = await convert(githubOrigins(c.env).GITHUB_API_URL, code);
  } catch (error) {
    const status = httpStatus(error);
    log("warn", "setup.conversion_failed", { status });
    if (status === 404 || status === 422) {
      return c.html(
        errorPage(
          "This code cannot be used",
          "GitHub says it was already used or has expired (codes are single-use and last an hour). Start again from the setup link.",
        ),
        400,
      );
    }
    return c.html(
      errorPage(
        "GitHub did not answer",
        "GitHub could not hand over the new App's credentials. Try again from the setup link; if GitHub created an App, delete it first.",
      ),
      502,
    );
  }
  const { name, ...stored } = credentials;
  // Stored from elsewhere meanwhile (another isolate's callback, see lock.ts): the first App stays the Worker's.
  if (await isSetUp(c.env)) {
    log("warn", "setup.app_unused", { app: stored.appId, slug: stored.slug });
    return c.html(
      errorPage(
        "Setup was finished by another callback",
        `This Worker already has its GitHub App, so the App "${name}" (${stored.slug}) GitHub just created for this code is not used: delete it (GitHub → Settings → Developer settings → GitHub Apps → ${name} → Advanced).`,
      ),
      409,
    );
  }
  await storeCredentials(c.env.TASKS, c.var.token, stored);
  await rememberAppIdentity(c.env.TASKS, { owner: stored.owner, slug: stored.slug }).catch(() => undefined);
  log("info", "setup.done", { app: stored.appId, slug: stored.slug, owner: stored.owner });
  endSession(c);
  const explicit = { mention: c.env.MENTION?.trim() || undefined, label: c.env.LABEL?.trim() || undefined };
  const agentAsApp = c.env.GIT_IDENTITY?.trim().toLowerCase() === "app";
  return c.html(
    donePage({
      name,
      installUrl: `${githubOrigins(c.env).GITHUB_URL}/apps/${encodeURIComponent(stored.slug)}/installations/new`,
      words: deploymentWords(explicit, stored.slug)!,
      warnings: collisionWarnings(explicit, agentAsApp),
      agentAsApp,
    }),
  );
}

/** `POST /app-manifests/{code}/conversions`: unauthenticated, the code is the credential. */
async function convert(apiUrl: string, code: string): Promise<AppCredentials & { name: string }> {
  const github = anonymousClient({ githubApiUrl: apiUrl, upstreamTimeoutMs: DEFAULT_UPSTREAM_TIMEOUT_MS });
  const { data } = await github.request("POST /app-manifests/{code}/conversions", { code });
  const owner: unknown = isObject(data) ? data.owner : undefined;
  const login = isObject(owner) ? owner.login : undefined;
  if (
    !isObject(data) ||
    typeof data.id !== "number" ||
    typeof data.pem !== "string" ||
    typeof data.webhook_secret !== "string" ||
    typeof data.slug !== "string" ||
    typeof login !== "string"
  ) {
    throw Object.assign(new Error("GitHub sent an unreadable conversion"), { status: 502 });
  }
  return {
    appId: String(data.id),
    privateKey: data.pem,
    webhookSecret: data.webhook_secret,
    slug: data.slug,
    owner: login,
    name: String(data.name ?? data.slug),
  };
}
