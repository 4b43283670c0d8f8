/**
 * The App as this Worker needs it, for GitHub's manifest flow
 * (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
 * everything preset, created private, because whoever can install the App can
 * run agents on the operator's credits (see "Who may ask" in the README).
 */
export const APP_PERMISSIONS = { issues: "write", pull_requests: "write", contents: "read", metadata: "read" } as const;
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
  default_permissions: typeof APP_PERMISSIONS;
  default_events: readonly string[];
}

/** The manifest for the Worker serving at `origin` (e.g. https://openhands.acme.workers.dev). */
export function appManifest(origin: string): AppManifest {
  const worker = new URL(origin).hostname.split(".")[0] ?? "worker";
  return {
    name: `OpenHands ${worker}`.slice(0, MAX_NAME_CHARS),
    url: origin,
    hook_attributes: { url: `${origin}/api/github/webhooks`, active: true },
    redirect_url: `${origin}/setup/callback`,
    public: false,
    default_permissions: APP_PERMISSIONS,
    default_events: APP_EVENTS,
  };
}

/** Where the manifest is posted: the operator's own account, or an organisation they administer. */
export function newAppUrl(githubUrl: string, org: string | undefined, state: string): string {
  const path = org ? `/organizations/${encodeURIComponent(org)}/settings/apps/new` : "/settings/apps/new";
  return `${githubUrl}${path}?state=${encodeURIComponent(state)}`;
}
