import { type AppManifest, slugOf } from "./manifest";

/** The setup pages: plain HTML, no script, everything interpolated escaped. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function page(title: string, body: string, head = ""): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">${head}<title>${escapeHtml(title)} · OpenHands GitHub App</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem}code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}
button,.button{display:inline-block;background:#1f883d;color:#fff;border:0;border-radius:6px;padding:.6rem 1rem;font-size:1rem;text-decoration:none;cursor:pointer}
input[type=text]{font-size:1rem;padding:.45rem;border:1px solid #d0d7de;border-radius:6px}
.box{border:1px solid #d0d7de;border-radius:6px;padding:1rem;margin:1rem 0}.error{border-color:#cf222e;background:#ffebe9}
.muted{color:#59636e;font-size:.9rem}
</style></head><body>
${body}
</body></html>`;
}

export function startPage(view: { manifest: AppManifest; action: string; org?: string }): string {
  const where = view.org ? `the organisation <strong>${escapeHtml(view.org)}</strong>` : "your personal account";
  return page(
    "Create the GitHub App",
    `<h1>Create the GitHub App</h1>
<p>One click creates a private GitHub App on ${where}, set up for this Worker:</p>
<ul>
<li>webhook: <code>${escapeHtml(view.manifest.hook_attributes.url)}</code></li>
<li>permissions: Issues and Pull requests read and write; Contents ${view.manifest.default_permissions.contents === "write" ? "read and write (the agent pushes as the App)" : "read"}; Metadata read; Checks and Actions read (what failed on a pull request, for the agent to fix)</li>
<li>events: issues, comments, pull requests, reviews, review comments</li>
<li>installable only on the account that creates it</li>
<li>asked by its own name: <code id="mention">@${escapeHtml(slugOf(view.manifest.name))}</code> (the slug GitHub makes of the App's
name, which you may change on GitHub's next page), since <code>@&#8288;openhands</code> is OpenHands' own GitHub App's</li>
</ul>
<form id="manifest-form" method="post" action="${escapeHtml(view.action)}">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(view.manifest))}">
<button id="create-app" type="submit">Create GitHub App on ${view.org ? escapeHtml(view.org) : "my account"}</button>
</form>
<form id="org-form" class="box" method="get" action="/setup">
<label for="org">Or on an organisation you administer:</label>
<input id="org" type="text" name="org" placeholder="organisation login" value="${escapeHtml(view.org ?? "")}" pattern="[A-Za-z0-9-]{1,39}">
<button id="org-continue" type="submit">Continue</button>
</form>
<p class="muted">GitHub shows the App before creating it and sends you back here. The Worker then keeps the App's id,
private key and webhook secret itself, sealed with a key derived from <code>SETUP_TOKEN</code>.</p>`,
  );
}

export function donePage(view: {
  name: string;
  installUrl: string;
  words: { mention: string; label: string };
  warnings: readonly string[];
  agentAsApp: boolean;
}): string {
  const gitAccess = view.agentAsApp
    ? `<p class="muted">The agent clones, pushes and opens pull requests as this App (GIT_IDENTITY=app), so OpenHands' own GitHub App
is not needed. Where it is installed anyway, it answers <code>@&#8288;openhands</code> and the label <code>openhands</code> by itself.</p>`
    : `<p class="muted">The agent clones and pushes through OpenHands' own GitHub App, so install that one too on the same repositories
(app.all-hands.dev, Settings → Integrations). It answers <code>@&#8288;openhands</code> and the label <code>openhands</code> by itself,
which is why this App's words are its own name.</p>`;
  const warnings = view.warnings.map((w) => `<p class="box error">⚠️ ${escapeHtml(w)}</p>`).join("\n");
  return page(
    "App created",
    `<div id="done"><h1>${escapeHtml(view.name)} is ready</h1>
<p>This Worker now holds the App's credentials. Last step: install the App on the repositories it should serve.</p>
<p><a id="install" class="button" href="${escapeHtml(view.installUrl)}">Install the App</a></p>
<p>Then write <code id="mention">${escapeHtml(view.words.mention)}</code> and a request in an issue or pull request comment,
or put the label <code id="label">${escapeHtml(view.words.label)}</code> on an issue. <code>/healthz</code> says whether everything is in place.</p>
${gitAccess}
${warnings}
<p class="muted">This setup page is now closed. <code>SETUP_TOKEN</code> now seals the App's credentials, and it has been in a
link: change it with <code>npm run rotate-setup-token</code> (it re-seals them under the new one).</p></div>`,
  );
}

export function closedPage(): string {
  return page(
    "Setup is closed",
    `<div id="closed"><h1>Setup is closed</h1>
<p>This Worker already has its GitHub App, so nobody can claim it through this page.</p>
<p class="muted">To start over, delete the App on GitHub, remove the Worker's <code>GITHUB_APP_*</code> secrets or its stored
credentials (<code>npx wrangler kv key delete app:credentials --binding TASKS --remote</code>), and open the setup link again.</p></div>`,
  );
}

export function errorPage(title: string, message: string): string {
  return page(
    title,
    `<div id="error" class="box error"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></div>`,
  );
}

/** A SETUP_TOKEN too short to stand as the key to the App's credentials. */
export function shortTokenPage(minChars: number): string {
  return page(
    "SETUP_TOKEN is too short",
    `<div id="error" class="box error"><h1>SETUP_TOKEN is too short</h1>
<p>It must be at least ${minChars} characters: once the App exists, it is the key its credentials are sealed with.
Setup stays off until it is. Make a new one, which prints a new setup link:</p>
<p><code>npx wrangler secret delete SETUP_TOKEN &amp;&amp; npm run deploy</code></p>
<p>or set one yourself: <code>openssl rand -hex 32 | npx wrangler secret put SETUP_TOKEN</code></p></div>`,
  );
}

/**
 * GitHub's redirect back is a navigation another site started, so the browser
 * leaves the SameSite=Strict session cookie out of it. This page asks again
 * from this Worker's own origin (no script: a refresh, and a link), and that
 * request carries the cookie.
 */
export function resumePage(href: string): string {
  return page(
    "Finishing setup",
    `<div id="resume"><h1>Finishing setup…</h1>
<p><a id="continue" class="button" href="${escapeHtml(href)}">Continue</a></p></div>`,
    `<meta http-equiv="refresh" content="0;url=${escapeHtml(href)}">`,
  );
}
