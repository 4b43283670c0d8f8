import { Octokit } from "@octokit/core";
import { Hono } from "hono";
import type { WorkerEnv } from "../config";
import { rememberAppIdentity } from "../github/app-identity";
import { httpStatus } from "../http-status";
import { isObject } from "../is-object";
import { log } from "../log";
import { collisionWarnings } from "../openhands/github-app";
import { deploymentWords } from "../trigger/words";
import { type AppCredentials, hasStoredCredentials, storeCredentials } from "./credentials";
import { appManifest, newAppUrl } from "./manifest";
import { closedPage, donePage, errorPage, startPage } from "./pages";
import { isValidState, makeState, sameText } from "./state";

/**
 * `/setup`: GitHub's App manifest flow (as Probot apps do it). The operator opens
 * the link `npm run deploy` printed (it carries `SETUP_TOKEN`), one button makes
 * GitHub create the App with everything preset, and GitHub sends back a code
 * that this Worker turns into the App's credentials and keeps. Closed as soon
 * as the Worker has an App, so nobody else can claim it.
 */
export const setupRoute = new Hono<{ Bindings: WorkerEnv }>();

// The pages carry the setup token in their URL: never cached, never sent on as a Referer.
setupRoute.use(async (c, next) => {
  await next();
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
});

const DEFAULT_GITHUB_URL = "https://github.com";
const START_OVER =
  "To start over, delete the App on GitHub, remove the Worker's GITHUB_APP_* secrets or its stored credentials (npx wrangler kv key delete app:credentials --binding TASKS --remote), and open the setup link again.";
const DEFAULT_GITHUB_API_URL = "https://api.github.com";

async function isSetUp(env: WorkerEnv): Promise<boolean> {
  return Boolean(env.GITHUB_APP_ID?.trim()) || (await hasStoredCredentials(env.TASKS));
}

function origins(env: WorkerEnv) {
  return {
    web: (env.GITHUB_URL?.trim() || DEFAULT_GITHUB_URL).replace(/\/+$/, ""),
    api: (env.GITHUB_API_URL?.trim() || DEFAULT_GITHUB_API_URL).replace(/\/+$/, ""),
  };
}

setupRoute.get("/", async (c) => {
  const token = c.env.SETUP_TOKEN?.trim();
  if (await isSetUp(c.env)) return c.html(closedPage(), 410);
  if (!token) {
    return c.html(
      errorPage(
        "Setup is not enabled",
        "Set the SETUP_TOKEN secret (npm run deploy does it and prints the setup link).",
      ),
      403,
    );
  }
  if (!sameText(c.req.query("token") ?? "", token)) {
    return c.html(
      errorPage("Not allowed", "Open the setup link printed by npm run deploy: it carries the setup token."),
      403,
    );
  }
  const org = c.req.query("org")?.trim() || undefined;
  if (org !== undefined && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(org)) {
    return c.html(
      errorPage("Not an organisation login", "An organisation login has letters, digits and dashes only."),
      400,
    );
  }
  const origin = new URL(c.req.url).origin;
  const action = newAppUrl(origins(c.env).web, org, await makeState(token));
  const gitIdentity = c.env.GIT_IDENTITY?.trim().toLowerCase() === "app" ? "app" : "openhands";
  return c.html(startPage({ manifest: appManifest(origin, gitIdentity), action, org, token }));
});

setupRoute.get("/callback", async (c) => {
  const token = c.env.SETUP_TOKEN?.trim();
  if (await isSetUp(c.env)) {
    return c.html(
      errorPage("Setup is closed", `This Worker already has its GitHub App; this code was not used. ${START_OVER}`),
      410,
    );
  }
  if (!token) return c.html(errorPage("Setup is not enabled", "Set the SETUP_TOKEN secret first."), 403);
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
  if (!(await isValidState(token, c.req.query("state")))) {
    return c.html(
      errorPage(
        "This link did not come from this Worker",
        "Its state is missing, forged, or more than an hour old. Start again from the setup link.",
      ),
      400,
    );
  }
  let credentials: AppCredentials & { name: string };
  try {
    credentials = await convert(origins(c.env).api, code);
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
  // A second callback may have won meanwhile: the first App stored stays the Worker's.
  if (await isSetUp(c.env)) return c.html(closedPage(), 410);
  const { name, ...stored } = credentials;
  await storeCredentials(c.env.TASKS, token, stored);
  await rememberAppIdentity(c.env.TASKS, { owner: stored.owner, slug: stored.slug }).catch(() => undefined);
  log("info", "setup.done", { app: stored.appId, slug: stored.slug, owner: stored.owner });
  const explicit = { mention: c.env.MENTION?.trim() || undefined, label: c.env.LABEL?.trim() || undefined };
  const agentAsApp = c.env.GIT_IDENTITY?.trim().toLowerCase() === "app";
  return c.html(
    donePage({
      name,
      installUrl: `${origins(c.env).web}/apps/${encodeURIComponent(stored.slug)}/installations/new`,
      words: deploymentWords(explicit, stored.slug)!,
      warnings: collisionWarnings(explicit, agentAsApp),
      agentAsApp,
    }),
  );
});

/** `POST /app-manifests/{code}/conversions`: unauthenticated, the code is the credential. */
async function convert(apiUrl: string, code: string): Promise<AppCredentials & { name: string }> {
  const github = new Octokit({ baseUrl: apiUrl, userAgent: "openhands-github-app" });
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
