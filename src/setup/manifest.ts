/**
 * The App as this Worker needs it, for GitHub's manifest flow
 * (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
 * everything preset, created private, because whoever can install the App can
 * run agents on the operator's credits (see "Who may ask" in the README).
 */
/** `checks` and `actions` to read: what failed on a pull request, for the agent to fix (github/checks.ts). */
const APP_PERMISSIONS = {
  issues: "write",
  pull_requests: "write",
  contents: "read",
  metadata: "read",
  checks: "read",
  actions: "read",
} as const;
/** `GIT_IDENTITY=app`: the agent pushes with the App's own token (start/git-identity.ts). */
const APP_PERMISSIONS_FOR_GIT = { ...APP_PERMISSIONS, contents: "write" } as const;
const APP_EVENTS = [
  "issues",
  "issue_comment",
  "pull_request",
  "pull_request_review",
  "pull_request_review_comment",
] as const;
/** GitHub refuses longer App names. */
const MAX_NAME_CHARS = 34;

export interface AppManifest {
  name: string;
  url: string;
  hook_attributes: { url: string; active: boolean };
  redirect_url: string;
  public: boolean;
  default_permissions: typeof APP_PERMISSIONS | typeof APP_PERMISSIONS_FOR_GIT;
  default_events: readonly string[];
}

/**
 * The App's name, whose slug is what people write to ask (`@acme-openhands`): the
 * account's workers.dev subdomain (unique on Cloudflare, so two operators' names
 * do not collide on GitHub), else the host's first label. GitHub's confirm page
 * lets the operator change it; the mention follows the slug GitHub makes.
 */
function appName(origin: string): string {
  const labels = new URL(origin).hostname.split(".");
  const owner =
    labels.length >= 4 && labels.at(-2) === "workers" && labels.at(-1) === "dev" ? labels.at(-3) : labels[0];
  const suffix = " OpenHands";
  return `${(owner ?? "my").slice(0, MAX_NAME_CHARS - suffix.length)}${suffix}`;
}

/** The slug GitHub makes of an App's name: lower case, each run of other characters one dash. */
export function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** The manifest for the Worker serving at `origin` (e.g. https://openhands.acme.workers.dev). */
export function appManifest(origin: string, gitIdentity: "openhands" | "app" = "openhands"): AppManifest {
  return {
    name: appName(origin),
    url: origin,
    hook_attributes: { url: `${origin}/api/github/webhooks`, active: true },
    redirect_url: `${origin}/setup/callback`,
    public: false,
    default_permissions: gitIdentity === "app" ? APP_PERMISSIONS_FOR_GIT : APP_PERMISSIONS,
    default_events: APP_EVENTS,
  };
}

/** Where the manifest is posted: the operator's own account, or an organisation they administer. */
export function newAppUrl(githubUrl: string, org: string | undefined, state: string): string {
  const path = org ? `/organizations/${encodeURIComponent(org)}/settings/apps/new` : "/settings/apps/new";
  return `${githubUrl}${path}?state=${encodeURIComponent(state)}`;
}
