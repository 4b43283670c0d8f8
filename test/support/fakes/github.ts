import { type HttpHandler, http } from "msw";
import { bodyOf, FakeBase, json, parsedBody } from "./recorder";

/**
 * A stand-in for the parts of the GitHub REST API the App uses, answering with
 * the status codes, shapes and headers GitHub documents. It checks the App JWT
 * on the token exchange and the installation token on every other call.
 */
/** What the App's manifest asks for: what `GET /app` shows, and what an installation grants unless a test says otherwise. */
const MANIFEST_PERMISSIONS: Readonly<Record<string, "read" | "write">> = {
  issues: "write",
  pull_requests: "write",
  contents: "read",
  metadata: "read",
  checks: "read",
  actions: "read",
};

/** Where GitHub's job-log links point (a storage host of its own), outside the API. */
export const JOB_LOGS_ORIGIN = "https://productionresultssa0.blob.core.windows.net";

/** A check run on a commit; `log` only for GitHub Actions' (the default app). */
export interface FakeCheckRun {
  id: number;
  name: string;
  conclusion: "success" | "failure" | "timed_out" | "cancelled" | "neutral" | "skipped" | "startup_failure";
  app?: string;
  title?: string;
  summary?: string;
  annotations?: {
    path: string;
    start_line: number;
    end_line: number;
    annotation_level: "notice" | "warning" | "failure";
    message: string;
    title?: string;
  }[];
  log?: string;
}

/** GitHub's answer to a call the installation has no permission for. */
function notAccessible(): Response {
  return json(
    {
      message: "Resource not accessible by integration",
      documentation_url: "https://docs.github.com/rest",
      status: "403",
    },
    403,
  );
}

export interface FakeComment {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: { login: string; id: number; type: "Bot" | "User" };
  created_at: string;
  updated_at: string;
  author_association: string;
  /** Issue comments name the App that wrote them; null when a person typed it. */
  performed_via_github_app?: Record<string, unknown> | null;
  owner: string;
  repo: string;
  issue_number: number;
}

export interface FakeGitHubOptions {
  baseUrl?: string;
  appId?: string;
  /** When set, the App JWT's RS256 signature is verified with this key. */
  publicKeyPem?: string;
  appSlug?: string;
  /** The account that owns the App, as `GET /app` tells it. */
  appOwner?: string;
}

/** A registered App whose credentials this API takes from now on (see `useApp`). */
export interface FakeAppCredentials {
  id: number | string;
  slug: string;
  name: string;
  clientId: string;
  owner: { login: string; id: number; type: "User" | "Organization" };
  /** SPKI PEM of the App's key: JWTs must be signed with the matching private key. */
  publicKeyPem: string;
}

/**
 * OpenHands' own GitHub App, as its source decides (OpenHands/OpenHands,
 * enterprise/integrations/utils.py `has_exact_mention`): the body lower-cased,
 * then `re.search(r'(?:^|[^\w@])@openhands(?![\w-])', text)`, where Python's
 * `\w` is any Unicode letter or digit or `_`. Written here apart from the App's
 * own copy, so that a test compares the App with the rule, not with itself.
 */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function openHandsAppAnswers(body: string): boolean {
  return /(?:^|[^\p{L}\p{N}_@])@openhands(?![\p{L}\p{N}_-])/u.test(body.toLowerCase());
}

/**
 * One page of a list as GitHub answers it: `per_page` (30 by default, 100 at most) from `page`, with the
 * `Link` header naming the next and the last page while there are more.
 */
function paged<T>(request: { url: string }, all: readonly T[], view: (item: T) => unknown) {
  const url = new URL(request.url);
  const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
  const page = Number(url.searchParams.get("page") ?? 1);
  const headers: Record<string, string> = {};
  if (page * perPage < all.length) {
    const at = (n: number) => {
      const link = new URL(url);
      link.searchParams.set("page", String(n));
      return link.toString();
    };
    headers.link = `<${at(page + 1)}>; rel="next", <${at(Math.ceil(all.length / perPage))}>; rel="last"`;
  }
  return json(all.slice((page - 1) * perPage, page * perPage).map(view), 200, headers);
}

export class FakeGitHub extends FakeBase {
  readonly baseUrl: string;
  appId: string;
  appSlug: string;
  appOwner: string;
  /** What `GET /app` tells beyond id, slug and owner; `useApp` sets them for an App registered later. */
  private appName = "OpenHands App";
  private clientId = "Iv23liabcdef";
  private appOwnerId = 583231;
  private appOwnerType: "User" | "Organization" = "User";
  readonly comments = new Map<number, FakeComment>();
  readonly reactions: {
    owner: string;
    repo: string;
    subject: "issue_comment" | "review_comment" | "issue";
    id: number;
    content: string;
  }[] = [];
  /** Inline review comments, keyed by id; `pull_number` and `in_reply_to_id` place them in a thread. */
  readonly reviewComments = new Map<number, FakeComment & { in_reply_to_id?: number }>();
  readonly permissions = new Map<string, "admin" | "maintain" | "write" | "triage" | "read" | "none">();
  /**
   * Pull requests by number; `baseRepository` (`owner/repo`) pins one to a repository, else it answers in any.
   * `repository` is where the head branch lives (another one for a fork, null once the fork is deleted).
   * `sha` is the head commit (a push changes it), committed at `committedAt` (default: `createdAt`);
   * `createdAt` says whether a run opened it or found it; `updatedAt` moves with any activity (default:
   * `createdAt`); `author` opened it (default: the repository's owner, a person).
   */
  readonly pulls = new Map<
    number,
    {
      ref: string;
      repository: string | null;
      baseRef: string;
      files?: string[];
      /** Each changed file's `patch`, as the files endpoint gives it; its files are listed too. */
      patches?: Record<string, string>;
      title?: string;
      sha?: string;
      draft?: boolean;
      state?: "open" | "closed";
      merged?: boolean;
      createdAt?: string;
      updatedAt?: string;
      committedAt?: string;
      author?: string;
      baseRepository?: string;
    }
  >();
  /**
   * Check runs by head commit, as GitHub Actions or another App reported them. A GitHub Actions check run
   * is its job (the same id): `log` is the job's log, served as GitHub serves it (a 302 to plain text).
   */
  readonly checkRuns = new Map<string, FakeCheckRun[]>();
  readonly issuedTokens = new Set<string>();
  /** Pull-request reviews, in the order they were posted. */
  readonly reviews: {
    id: number;
    owner: string;
    repo: string;
    pull_number: number;
    body: string;
    commit_id: string;
    comments: { path: string; line: number; side: string; start_line?: number; body: string }[];
    /** A person's review; the App's when absent. */
    by?: string;
  }[] = [];
  /**
   * What happened to threads and repositories after a request was made (`deleteIssue`, `transferIssue`,
   * `lockIssue`, `archiveRepository`, `removeAppFrom`), keyed `owner/repo#number` and `owner/repo`, lower case.
   */
  private readonly deletedIssues = new Set<string>();
  private readonly transferredIssues = new Set<string>();
  private readonly lockedIssues = new Set<string>();
  private readonly archivedRepos = new Set<string>();
  private readonly removedRepos = new Set<string>();
  /** Comments that went with a deleted or transferred issue, the webhook's own included when named. */
  private readonly goneComments = new Set<number>();
  /** Repository files by `owner/repo:path`, served by the contents API. */
  readonly files = new Map<string, string>();
  private nextCommentId = 2_000_000_001;
  private publicKeyPem?: string;
  private readonly openRoutes: HttpHandler[];
  private readonly routes: HttpHandler[];

  constructor(options: FakeGitHubOptions = {}) {
    super();
    this.baseUrl = (options.baseUrl ?? "https://api.github.com").replace(/\/+$/, "");
    this.appId = options.appId ?? "123456";
    this.appSlug = options.appSlug ?? "openhands-app";
    this.appOwner = options.appOwner ?? "Codertocat";
    this.publicKeyPem = options.publicKeyPem;
    this.openRoutes = this.openRouteList();
    this.routes = this.routeList();
  }

  /**
   * From now on this API serves `app`: JWTs must name it (its id, or its client
   * ID as GitHub also accepts) and be signed with its key. The manifest flow
   * (test/support/fakes/github-web.ts) calls this when it hands an App's credentials out.
   */
  useApp(app: FakeAppCredentials): void {
    this.appId = String(app.id);
    this.appSlug = app.slug;
    this.appName = app.name;
    this.clientId = app.clientId;
    this.appOwner = app.owner.login;
    this.appOwnerId = app.owner.id;
    this.appOwnerType = app.owner.type;
    this.publicKeyPem = app.publicKeyPem;
  }

  /**
   * Every comment the App wrote or edited that OpenHands' own App, installed on the
   * same repositories, would have answered with an agent of its own. The harness
   * expects none after every test.
   */
  bodiesOpenHandsAppAnswers(): string[] {
    return this.requests
      .filter((r) => (r.method === "POST" || r.method === "PATCH") && /\/comments(\/\d+)?(\/replies)?$/.test(r.path))
      .map((r) => (r.body as { body?: unknown } | undefined)?.body)
      .filter((body): body is string => typeof body === "string" && openHandsAppAnswers(body));
  }

  /**
   * The issue (or pull request's conversation) was deleted. GitHub, for an App that can read the
   * repository: the Issues API answers 410 `This issue was deleted` for the issue and its
   * comments list and a new comment on it (the REST description lists 410 for get, list-comments
   * and create-comment), and its comments are gone with it (404 to a read, an edit or a reaction).
   * `commentIds` names comments the fake did not see posted (the one in a webhook payload).
   */
  deleteIssue(owner: string, repo: string, number: number, commentIds: number[] = []): void {
    this.deletedIssues.add(threadId(owner, repo, number));
    this.dropComments(owner, repo, number, commentIds);
  }

  /**
   * Moved to a repository the App is not installed on: GitHub answers 404 for it at its old place
   * ("transferred to a repository where the authenticated user lacks read access"), and its
   * comments moved with it, out of the App's sight.
   */
  transferIssue(owner: string, repo: string, number: number, commentIds: number[] = []): void {
    this.transferredIssues.add(threadId(owner, repo, number));
    this.dropComments(owner, repo, number, commentIds);
  }

  /**
   * The conversation was locked. Only people with write access may comment, and an App is not
   * one of them: GitHub answers 403 `Unable to create comment because issue is locked.` to a new
   * comment (Apps report it: probot/stale#25, renovatebot/renovate#6215, Expensify/App#14862) and
   * to an edit of the App's own comment (GraphQL `CommentCannotUpdateReason.LOCKED`, same text).
   * Reactions are disabled for everyone in a locked conversation (docs: "Locking conversations");
   * the status of that refusal is taken to be 403 too. Reading stays allowed.
   */
  lockIssue(owner: string, repo: string, number: number): void {
    this.lockedIssues.add(threadId(owner, repo, number));
  }

  /** Archived: read-only. Every write answers 403 `Repository was archived so is read-only.`; reads still work. */
  archiveRepository(owner: string, repo: string): void {
    this.archivedRepos.add(repoId(owner, repo));
  }

  /**
   * The App removed from the repository (the installation kept for others): a private repository
   * is out of the installation token's sight, so every call about it answers 404.
   */
  removeAppFrom(owner: string, repo: string): void {
    this.removedRepos.add(repoId(owner, repo));
  }

  private dropComments(owner: string, repo: string, number: number, commentIds: number[]): void {
    for (const comment of this.commentsOn(owner, repo, number)) {
      this.comments.delete(comment.id);
      this.goneComments.add(comment.id);
    }
    for (const [id, comment] of this.reviewComments) {
      if (comment.owner === owner && comment.repo === repo && comment.issue_number === number) {
        this.reviewComments.delete(id);
        this.goneComments.add(id);
      }
    }
    for (const id of commentIds) this.goneComments.add(id);
  }

  /**
   * GitHub's answer for a thread or repository changed under the App (see `deleteIssue` and the
   * others), before any route answers as if nothing happened.
   */
  private changedThreadAnswer(method: string, path: string): Response | undefined {
    const inRepo = path.match(/^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/);
    if (!inRepo) return undefined;
    const [owner, repo, rest = ""] = [decodeURIComponent(inRepo[1]!), decodeURIComponent(inRepo[2]!), inRepo[3]];
    const notFound = () =>
      json({ message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" }, 404);
    if (this.removedRepos.has(repoId(owner, repo))) return notFound();
    if (method !== "GET" && this.archivedRepos.has(repoId(owner, repo))) {
      return json(
        {
          message: "Repository was archived so is read-only.",
          documentation_url: "https://docs.github.com/rest",
          status: "403",
        },
        403,
      );
    }
    // The issue itself: /issues/{n}, its comments list and new comments, its reactions.
    const issue = rest.match(/^\/(?:issues|pulls)\/(\d+)(\/.*)?$/);
    const number = issue ? Number(issue[1]) : this.threadOfComment(owner, repo, rest);
    if (number === undefined) {
      const comment = rest.match(/^\/(?:issues|pulls)\/comments\/(\d+)/);
      return comment && this.goneComments.has(Number(comment[1])) ? notFound() : undefined;
    }
    const id = threadId(owner, repo, number);
    if (issue && this.deletedIssues.has(id)) {
      return json(
        {
          message: "This issue was deleted",
          documentation_url: "https://docs.github.com/rest/issues/issues#get-an-issue",
          status: "410",
        },
        410,
      );
    }
    if (issue && this.transferredIssues.has(id)) return notFound();
    const comment = rest.match(/^\/(?:issues|pulls)\/comments\/(\d+)/);
    if (comment && this.goneComments.has(Number(comment[1]))) return notFound();
    if (method !== "GET" && this.lockedIssues.has(id)) {
      const reaction = /\/reactions$/.test(rest);
      return json(
        {
          message: reaction
            ? "Unable to create reaction because issue is locked."
            : "Unable to create comment because issue is locked.",
          documentation_url: "https://docs.github.com/articles/locking-conversations",
          status: "403",
        },
        403,
      );
    }
    return undefined;
  }

  /** The thread a comment named in the path belongs to, when the fake knows the comment. */
  private threadOfComment(owner: string, repo: string, rest: string): number | undefined {
    const match = rest.match(/^\/(issues|pulls)\/comments\/(\d+)/);
    if (!match) return undefined;
    const comment =
      match[1] === "issues" ? this.comments.get(Number(match[2])) : this.reviewComments.get(Number(match[2]));
    return comment && comment.owner === owner && comment.repo === repo ? comment.issue_number : undefined;
  }

  /** Comments on one thread, oldest first, as GitHub lists them. */
  commentsOn(owner: string, repo: string, issueNumber: number): FakeComment[] {
    return [...this.comments.values()].filter(
      (c) => c.owner === owner && c.repo === repo && c.issue_number === issueNumber,
    );
  }

  async handle(request: Request): Promise<Response | undefined> {
    if (request.url.startsWith(JOB_LOGS_ORIGIN)) return this.jobLogContent(request);
    if (!request.url.startsWith(this.baseUrl)) return undefined;
    const path = new URL(request.url).pathname.slice(new URL(this.baseUrl).pathname.replace(/\/$/, "").length);
    const recorded = await this.record(request.clone());
    const fault = this.takeFault(request.method, path);
    if (fault) return fault.respond();

    const open = await this.route(this.openRoutes, request, path);
    if (open) return open;
    if (!this.issuedTokens.has((recorded.headers.authorization ?? "").replace(/^(token|bearer)\s+/i, ""))) {
      return json(
        { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" },
        401,
      );
    }
    const changed = this.changedThreadAnswer(request.method, path);
    if (changed) return changed;
    return (
      (await this.route(this.routes, request, path)) ??
      json({ message: "Not Found", documentation_url: "https://docs.github.com/rest" }, 404)
    );
  }

  private checkRun(id: number): FakeCheckRun | undefined {
    return [...this.checkRuns.values()].flat().find((run) => run.id === id);
  }

  private checkRunView(run: FakeCheckRun, params: Record<string, unknown>) {
    const repo = `${String(params.owner)}/${String(params.repo)}`;
    const actions = (run.app ?? "github-actions") === "github-actions";
    return {
      id: run.id,
      name: run.name,
      head_sha: String(params.ref),
      status: "completed",
      conclusion: run.conclusion,
      html_url: actions
        ? `https://github.com/${repo}/actions/runs/${run.id + 1000}/job/${run.id}`
        : `https://github.com/${repo}/runs/${run.id}`,
      details_url: `https://github.com/${repo}/runs/${run.id}`,
      output: {
        title: run.title ?? null,
        summary: run.summary ?? null,
        text: null,
        annotations_count: run.annotations?.length ?? 0,
        annotations_url: `${this.baseUrl}/repos/${repo}/check-runs/${run.id}/annotations`,
      },
      app: { id: actions ? 15368 : 9_999, slug: run.app ?? "github-actions", name: run.app ?? "GitHub Actions" },
      started_at: new Date(Date.now() - 120_000).toISOString(),
      completed_at: new Date().toISOString(),
    };
  }

  /** The job log behind the redirect: plain text, no token wanted (the link is signed). */
  private async jobLogContent(request: Request): Promise<Response> {
    await this.record(request.clone());
    const match = new URL(request.url).pathname.match(/^\/job-logs\/(\d+)$/);
    const run = match ? this.checkRun(Number(match[1])) : undefined;
    if (!run?.log || !new URL(request.url).searchParams.get("sig")) return new Response("Not Found", { status: 404 });
    return new Response(run.log, { headers: { "content-type": "text/plain; charset=utf-8" } });
  }

  /** `{base}/path`, for a route: GitHub Enterprise serves the API under a path of its own. */
  private at(route: string): string {
    return `${this.baseUrl}${route}`;
  }

  /** The routes that take the App's JWT (or nothing) rather than an installation token. */
  private openRouteList(): HttpHandler[] {
    return [
      http.post(this.at("/app/installations/:id/access_tokens"), async ({ request, params }) => {
        const id = whole(params.id);
        if (id === undefined) return undefined;
        return this.accessToken(request.headers.get("authorization") ?? undefined, id, await parsedBody(request));
      }),
      http.get(this.at("/app"), ({ request }) => this.app(request.headers.get("authorization") ?? undefined)),
    ];
  }

  /** GitHub's REST routes the App uses, one handler each, as GitHub documents them. */
  private routeList(): HttpHandler[] {
    return [
      // GET /users/{username}: the App's bot account is `<slug>[bot]`, a Bot with its own id.
      http.get(this.at("/users/:login"), ({ params }) => {
        const login = String(params.login);
        if (login.toLowerCase() === `${this.appSlug}[bot]`) return json({ ...this.botUser(), node_id: "BOT_x" });
        if (login.endsWith("[bot]")) return json({ message: "Not Found", status: "404" }, 404);
        return json({ login, id: 1000 + login.length, node_id: "U_x", type: "User" });
      }),
      http.get(this.at("/repos/:owner/:repo/collaborators/:login/permission"), ({ params }) => {
        const login = String(params.login);
        const role = this.permissions.get(login.toLowerCase()) ?? "read";
        const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
        return json({
          permission,
          role_name: role,
          user: {
            login,
            id: 1000 + login.length,
            type: "User",
            permissions: {
              admin: role === "admin",
              maintain: role === "maintain",
              push: permission === "write" || permission === "admin",
              triage: role !== "read" && role !== "none",
              pull: role !== "none",
            },
            role_name: role,
          },
        });
      }),
      http.post(this.at("/repos/:owner/:repo/issues/comments/:id/reactions"), (info) =>
        this.react(info, "issue_comment"),
      ),
      http.post(this.at("/repos/:owner/:repo/pulls/comments/:id/reactions"), (info) =>
        this.react(info, "review_comment"),
      ),
      http.post(this.at("/repos/:owner/:repo/issues/:id/reactions"), (info) => this.react(info, "issue")),
      http.post(this.at("/repos/:owner/:repo/issues/:number/comments"), async ({ request, params }) => {
        const number = whole(params.number);
        if (number === undefined) return undefined;
        const body = await bodyOf(request);
        if (typeof body.body !== "string" || !body.body) {
          return json(
            {
              message: 'Invalid request.\n\n"body" wasn\'t supplied.',
              documentation_url: "https://docs.github.com/rest",
            },
            422,
          );
        }
        if (body.body.length > 65536)
          return json(
            {
              message: "Validation Failed",
              errors: [
                {
                  resource: "IssueComment",
                  code: "custom",
                  field: "body",
                  message: "body is too long (maximum is 65536 characters)",
                },
              ],
            },
            422,
          );
        const comment = this.addComment(
          String(params.owner),
          String(params.repo),
          number,
          body.body,
          this.botUser(),
          this.appInfo(),
        );
        return json(this.view(comment), 201);
      }),
      http.get(this.at("/repos/:owner/:repo/issues/comments/:id"), ({ params }) => {
        const id = whole(params.id);
        if (id === undefined) return undefined;
        const comment = this.comments.get(id);
        if (!comment)
          return json({ message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" }, 404);
        return json(this.view(comment));
      }),
      http.patch(this.at("/repos/:owner/:repo/issues/comments/:id"), async ({ request, params }) => {
        const id = whole(params.id);
        if (id === undefined) return undefined;
        const comment = this.comments.get(id);
        if (!comment)
          return json({ message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" }, 404);
        const body = await bodyOf(request);
        if (typeof body.body !== "string") return json({ message: "Validation Failed" }, 422);
        comment.body = body.body;
        comment.updated_at = new Date().toISOString();
        return json(this.view(comment));
      }),
      http.get(this.at("/repos/:owner/:repo/issues/:number/comments"), ({ request, params }) => {
        const number = whole(params.number);
        if (number === undefined) return undefined;
        const all = this.commentsOn(String(params.owner), String(params.repo), number);
        return paged(request, all, (c) => this.view(c));
      }),
      http.post(this.at("/repos/:owner/:repo/pulls/:number/comments/:id/replies"), async ({ request, params }) => {
        const [number, id] = [whole(params.number), whole(params.id)];
        if (number === undefined || id === undefined) return undefined;
        const top = this.reviewComments.get(id);
        if (!top || top.issue_number !== number) return json({ message: "Not Found", status: "404" }, 404);
        const body = await bodyOf(request);
        if (typeof body.body !== "string" || !body.body) return json({ message: "Validation Failed" }, 422);
        const reply = this.addReviewComment(
          String(params.owner),
          String(params.repo),
          number,
          body.body,
          this.botUser(),
          top.id,
        );
        return json(this.view(reply), 201);
      }),
      http.get(this.at("/repos/:owner/:repo/pulls/comments/:id"), ({ params }) => {
        const id = whole(params.id);
        if (id === undefined) return undefined;
        const comment = this.reviewComments.get(id);
        if (!comment) return json({ message: "Not Found", status: "404" }, 404);
        return json(this.view(comment));
      }),
      http.patch(this.at("/repos/:owner/:repo/pulls/comments/:id"), async ({ request, params }) => {
        const id = whole(params.id);
        if (id === undefined) return undefined;
        const comment = this.reviewComments.get(id);
        if (!comment) return json({ message: "Not Found", status: "404" }, 404);
        const body = await bodyOf(request);
        if (typeof body.body !== "string") return json({ message: "Validation Failed" }, 422);
        comment.body = body.body;
        comment.updated_at = new Date().toISOString();
        return json(this.view(comment));
      }),
      http.get(this.at("/repos/:owner/:repo/pulls/:number/comments"), ({ params }) => {
        const number = whole(params.number);
        if (number === undefined) return undefined;
        const all = [...this.reviewComments.values()].filter(
          (c) => c.owner === params.owner && c.repo === params.repo && c.issue_number === number,
        );
        return json(all.map((c) => this.view(c)));
      }),
      // GET /repos/{owner}/{repo}/issues/{number}: every pull request is an issue too.
      http.get(this.at("/repos/:owner/:repo/issues/:number"), ({ params }) => {
        const number = whole(params.number);
        if (number === undefined) return undefined;
        const [owner, repo] = [String(params.owner), String(params.repo)];
        const repoFull = `${owner}/${repo}`;
        const pull = this.pulls.get(number);
        return json({
          number,
          html_url: `https://github.com/${repoFull}/${pull ? "pull" : "issues"}/${number}`,
          title: pull?.title ?? `Issue ${number}`,
          state: "open",
          locked: this.lockedIssues.has(threadId(owner, repo, number)),
          user: { login: "octocat", id: 1, type: "User" },
          ...(pull ? { pull_request: { url: `${this.baseUrl}/repos/${repoFull}/pulls/${number}` } } : {}),
        });
      }),
      http.get(this.at("/repos/:owner/:repo/contents/*"), ({ params }) => {
        const [owner, repo, filePath] = [String(params.owner), String(params.repo), String(params[0])];
        const text = this.files.get(`${owner}/${repo}:${filePath}`);
        if (text === undefined)
          return json(
            {
              message: "Not Found",
              documentation_url: "https://docs.github.com/rest/repos/contents#get-repository-content",
              status: "404",
            },
            404,
          );
        const bytes = new TextEncoder().encode(text);
        const b64 = btoa(String.fromCharCode(...bytes)).replace(/.{60}/g, "$&\n");
        return json({
          type: "file",
          encoding: "base64",
          size: bytes.length,
          name: filePath.split("/").pop(),
          path: filePath,
          content: b64,
          sha: "d".repeat(40),
          url: `${this.baseUrl}/repos/${owner}/${repo}/contents/${filePath}`,
        });
      }),
      http.get(this.at("/repos/:owner/:repo/pulls/:number/files"), ({ request, params }) => {
        const number = whole(params.number);
        if (number === undefined) return undefined;
        const pull = this.pulls.get(number);
        if (!pull) return json({ message: "Not Found", status: "404" }, 404);
        const query = new URL(request.url).searchParams;
        const perPage = Math.min(100, Number(query.get("per_page") ?? 30));
        const page = Math.max(1, Number(query.get("page") ?? 1));
        const names = [...new Set([...(pull.files ?? []), ...Object.keys(pull.patches ?? {})])];
        return json(
          names.slice((page - 1) * perPage, page * perPage).map((filename, i) => ({
            sha: "c".repeat(40),
            filename,
            status: "modified",
            additions: i + 1,
            deletions: 0,
            changes: i + 1,
            ...(pull.patches?.[filename] !== undefined ? { patch: pull.patches[filename] } : {}),
          })),
        );
      }),
      // GET /repos/{owner}/{repo}/commits/{ref}/check-runs: `checks: read`, else 403 as for any missing permission.
      http.get(this.at("/repos/:owner/:repo/commits/:ref/check-runs"), ({ params }) => {
        if (!this.installationPermissions.checks) return notAccessible();
        const runs = this.checkRuns.get(String(params.ref)) ?? [];
        return json({ total_count: runs.length, check_runs: runs.map((run) => this.checkRunView(run, params)) });
      }),
      http.get(this.at("/repos/:owner/:repo/check-runs/:id/annotations"), ({ request, params }) => {
        if (!this.installationPermissions.checks) return notAccessible();
        const run = this.checkRun(Number(params.id));
        if (!run) return json({ message: "Not Found", status: "404" }, 404);
        const perPage = Math.min(100, Number(new URL(request.url).searchParams.get("per_page") ?? 30));
        return json((run.annotations ?? []).slice(0, perPage));
      }),
      // GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs: `actions: read`; 302 to a link valid one minute.
      http.get(this.at("/repos/:owner/:repo/actions/jobs/:id/logs"), ({ params }) => {
        if (!this.installationPermissions.actions) return notAccessible();
        const run = this.checkRun(Number(params.id));
        if (run?.log === undefined) return json({ message: "Not Found", status: "404" }, 404);
        const location = `${JOB_LOGS_ORIGIN}/job-logs/${run.id}?sig=${crypto.randomUUID()}&se=${Date.now() + 60_000}`;
        return new Response(null, { status: 302, headers: { location } });
      }),
      // GET /repos/{owner}/{repo}/pulls/{n}/reviews: oldest first, as GitHub lists them.
      http.get(this.at("/repos/:owner/:repo/pulls/:number/reviews"), ({ request, params }) => {
        const number = whole(params.number);
        if (number === undefined) return undefined;
        if (!this.pulls.has(number)) return json({ message: "Not Found", status: "404" }, 404);
        const here = this.reviews.filter(
          (r) => r.owner === params.owner && r.repo === params.repo && r.pull_number === number,
        );
        return paged(request, here, (review) => this.reviewView(review));
      }),
      http.post(this.at("/repos/:owner/:repo/pulls/:number/reviews"), async ({ request, params }) => {
        const number = whole(params.number);
        if (number === undefined) return undefined;
        const pull = this.pulls.get(number);
        if (!pull) return json({ message: "Not Found", status: "404" }, 404);
        return this.createReview(String(params.owner), String(params.repo), number, pull, await parsedBody(request));
      }),
      http.get(this.at("/repos/:owner/:repo/pulls/:number"), ({ params }) => {
        const number = whole(params.number);
        if (number === undefined) return undefined;
        const pull = this.pulls.get(number);
        const repoFull = `${params.owner}/${params.repo}`;
        if (!pull || (pull.baseRepository && pull.baseRepository.toLowerCase() !== repoFull.toLowerCase())) {
          return json({ message: "Not Found", status: "404" }, 404);
        }
        return json(this.pullRequestView(number, repoFull, pull));
      }),
      // GET /repos/{owner}/{repo}/git/commits/{commit_sha}: the head commits of the pull requests here.
      http.get(this.at("/repos/:owner/:repo/git/commits/:sha"), ({ params }) => {
        const sha = String(params.sha);
        if (!/^[0-9a-f]{40}$/.test(sha)) return undefined;
        const [owner, repo] = [String(params.owner), String(params.repo)];
        const pull = [...this.pulls.values()].find((p) => (p.sha ?? "a".repeat(40)) === sha);
        if (!pull) return json({ message: "Not Found", status: "404" }, 404);
        const date = (pull.committedAt ?? pull.createdAt ?? "2026-01-01T00:00:00Z").replace(/\.\d{3}Z$/, "Z");
        const person = { name: "A Person", email: "person@example.com", date };
        const url = `${this.baseUrl}/repos/${owner}/${repo}/git/commits/${sha}`;
        return json({
          sha,
          node_id: "C_x",
          url,
          html_url: `https://github.com/${owner}/${repo}/commit/${sha}`,
          author: person,
          committer: person,
          message: "A change",
          tree: { sha: "e".repeat(40), url: `${this.baseUrl}/repos/${owner}/${repo}/git/trees/${"e".repeat(40)}` },
          parents: [],
          verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
        });
      }),
    ];
  }

  /** POST …/reactions on an issue, an issue comment or a review comment. */
  private async react(
    {
      request,
      params,
    }: { request: Parameters<typeof bodyOf>[0]; params: Record<string, string | readonly string[] | undefined> },
    subject: "issue_comment" | "review_comment" | "issue",
  ): Promise<Response | undefined> {
    const id = whole(params.id);
    if (id === undefined) return undefined;
    const content = String((await bodyOf(request)).content);
    if (!["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"].includes(content)) {
      return json(
        { message: "Validation Failed", errors: [{ resource: "Reaction", code: "invalid", field: "content" }] },
        422,
      );
    }
    this.reactions.push({ owner: String(params.owner), repo: String(params.repo), subject, id, content });
    return json(
      {
        id: this.reactions.length,
        node_id: "REA_x",
        user: this.botUser(),
        content,
        created_at: new Date().toISOString(),
      },
      201,
    );
  }

  addComment(
    owner: string,
    repo: string,
    issueNumber: number,
    text: string,
    user: FakeComment["user"] = { login: "octocat", id: 1, type: "User" },
    via: Record<string, unknown> | null = null,
  ): FakeComment {
    const id = this.nextCommentId++;
    const now = new Date().toISOString();
    const comment: FakeComment = {
      id,
      node_id: `IC_${id}`,
      url: `${this.baseUrl}/repos/${owner}/${repo}/issues/comments/${id}`,
      html_url: `https://github.com/${owner}/${repo}/issues/${issueNumber}#issuecomment-${id}`,
      issue_url: `${this.baseUrl}/repos/${owner}/${repo}/issues/${issueNumber}`,
      body: text,
      user,
      created_at: now,
      updated_at: now,
      author_association: user.type === "Bot" ? "NONE" : "OWNER",
      performed_via_github_app: via,
      owner,
      repo,
      issue_number: issueNumber,
    };
    this.comments.set(id, comment);
    return comment;
  }

  /** An inline review comment; replies name the thread's first comment in `in_reply_to_id`. */
  addReviewComment(
    owner: string,
    repo: string,
    pullNumber: number,
    text: string,
    user: FakeComment["user"] = { login: "octocat", id: 1, type: "User" },
    inReplyTo?: number,
    id = this.nextCommentId++,
  ): FakeComment & { in_reply_to_id?: number } {
    const now = new Date().toISOString();
    const comment = {
      id,
      node_id: `PRRC_${id}`,
      url: `${this.baseUrl}/repos/${owner}/${repo}/pulls/comments/${id}`,
      html_url: `https://github.com/${owner}/${repo}/pull/${pullNumber}#discussion_r${id}`,
      issue_url: `${this.baseUrl}/repos/${owner}/${repo}/issues/${pullNumber}`,
      body: text,
      user,
      created_at: now,
      updated_at: now,
      author_association: user.type === "Bot" ? "NONE" : "OWNER",
      owner,
      repo,
      issue_number: pullNumber,
      ...(inReplyTo ? { in_reply_to_id: inReplyTo } : {}),
    };
    this.reviewComments.set(id, comment);
    return comment;
  }

  /** What GitHub puts in `performed_via_github_app` for this App (a shorter form of GET /app). */
  /** A pull request as GET /repos/{owner}/{repo}/pulls/{number} answers (the REST schema `pull-request`, in part). */
  private pullRequestView(number: number, repoFull: string, pull: NonNullable<ReturnType<FakeGitHub["pulls"]["get"]>>) {
    const user = (login: string) => ({
      login,
      id: 1000 + login.length,
      node_id: "U_x",
      type: login.endsWith("[bot]") ? "Bot" : "User",
      html_url: `https://github.com/${login}`,
    });
    const repository = (fullName: string) => {
      const [owner, name] = fullName.split("/") as [string, string];
      return {
        id: 1296269 + fullName.length,
        name,
        full_name: fullName,
        owner: user(owner),
        private: false,
        fork: fullName.toLowerCase() !== repoFull.toLowerCase(),
        html_url: `https://github.com/${fullName}`,
      };
    };
    const createdAt = pull.createdAt ?? "2026-01-01T00:00:00Z";
    const headOwner = (pull.repository ?? "ghost/deleted").split("/")[0]!;
    return {
      url: `${this.baseUrl}/repos/${repoFull}/pulls/${number}`,
      id: 1_000_000 + number,
      node_id: "PR_x",
      html_url: `https://github.com/${repoFull}/pull/${number}`,
      number,
      title: pull.title ?? `Pull request ${number}`,
      state: pull.state ?? "open",
      locked: false,
      user: user(pull.author ?? repoFull.split("/")[0]!),
      body: null,
      created_at: createdAt,
      updated_at: pull.updatedAt ?? createdAt,
      closed_at: pull.state === "closed" || pull.merged ? "2026-11-26T12:00:00Z" : null,
      merged_at: pull.merged ? "2026-11-26T12:00:00Z" : null,
      draft: pull.draft ?? false,
      merged: pull.merged ?? false,
      head: {
        label: `${headOwner}:${pull.ref}`,
        ref: pull.ref,
        sha: pull.sha ?? "a".repeat(40),
        user: user(headOwner),
        // null once the fork is deleted, as GitHub sends it
        repo: pull.repository === null ? null : repository(pull.repository),
      },
      base: {
        label: `${repoFull.split("/")[0]}:${pull.baseRef}`,
        ref: pull.baseRef,
        sha: "b".repeat(40),
        user: user(repoFull.split("/")[0]!),
        repo: repository(repoFull),
      },
      author_association: "OWNER",
      changed_files: (pull.files ?? []).length,
    };
  }

  appInfo(): Record<string, unknown> {
    return {
      id: Number(this.appId),
      slug: this.appSlug,
      node_id: "A_kwHOAAjw_84AAQ",
      name: this.appName,
      owner: { login: this.appOwner },
    };
  }

  /**
   * POST /pulls/{n}/reviews as GitHub answers it: a COMMENT review needs a body, and the whole review is
   * refused (422) when one comment is not on a line of its file's diff hunks, or starts in another hunk
   * than it ends, or does not start before its line.
   */
  private createReview(
    owner: string,
    repo: string,
    pullNumber: number,
    pull: NonNullable<ReturnType<FakeGitHub["pulls"]["get"]>>,
    body: unknown,
  ): Response {
    const input = (body ?? {}) as Record<string, unknown>;
    const refuse = (error: string) =>
      json(
        {
          message: "Unprocessable Entity",
          errors: [error],
          documentation_url: "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
          status: "422",
        },
        422,
      );
    if (input.event !== "COMMENT" && input.event !== "APPROVE" && input.event !== "REQUEST_CHANGES")
      return refuse("event is not one of APPROVE, REQUEST_CHANGES, COMMENT");
    if (input.event !== "APPROVE" && (typeof input.body !== "string" || !input.body))
      return refuse(`Body is required when using ${String(input.event)}`);
    if (input.commit_id !== undefined && !/^[0-9a-f]{40}$/.test(String(input.commit_id)))
      return refuse("commit_id is not part of the pull request");
    const comments = Array.isArray(input.comments) ? (input.comments as Record<string, unknown>[]) : [];
    for (const comment of comments) {
      const patch = pull.patches?.[String(comment.path)];
      const side = comment.side === "LEFT" ? "LEFT" : "RIGHT";
      const hunks = patch === undefined ? [] : fakeHunks(patch);
      const line = Number(comment.line);
      const start = comment.start_line === undefined ? undefined : Number(comment.start_line);
      const hunk = hunks.find((h) => h[side].has(line));
      if (!hunk) return refuse("Pull request review thread line must be part of the diff");
      if (start !== undefined && !(start < line))
        return refuse("Pull request review thread start line must precede the end line.");
      if (start !== undefined && !hunk[side].has(start))
        return refuse("Pull request review thread start line must be part of the same hunk as the line.");
    }
    const review = {
      id: 80_000 + this.reviews.length + 1,
      owner,
      repo,
      pull_number: pullNumber,
      body: String(input.body ?? ""),
      commit_id: String(input.commit_id ?? pull.sha ?? "a".repeat(40)),
      comments: comments.map((c) => ({
        path: String(c.path),
        line: Number(c.line),
        side: c.side === "LEFT" ? "LEFT" : "RIGHT",
        ...(c.start_line !== undefined ? { start_line: Number(c.start_line) } : {}),
        body: String(c.body),
      })),
    };
    this.reviews.push(review);
    return json(this.reviewView(review));
  }

  private reviewView(review: FakeGitHub["reviews"][number]) {
    return {
      id: review.id,
      node_id: `PRR_${review.id}`,
      user: review.by ? { login: review.by, id: 7_000_001, type: "User" as const } : this.botUser(),
      body: review.body,
      state: "COMMENTED",
      commit_id: review.commit_id,
      html_url: `https://github.com/${review.owner}/${review.repo}/pull/${review.pull_number}#pullrequestreview-${review.id}`,
      submitted_at: new Date().toISOString(),
    };
  }

  private botUser() {
    return { login: `${this.appSlug}[bot]`, id: 41898282, type: "Bot" as const };
  }

  private view(comment: FakeComment) {
    const { owner: _o, repo: _r, issue_number: _n, ...rest } = comment;
    return rest;
  }

  /** GET /app: the authenticated App, for its JWT only (an installation token gets 401 here too). */
  private async app(authorization: string | undefined): Promise<Response> {
    const problem = await this.checkJwt((authorization ?? "").replace(/^bearer\s+/i, ""));
    if (problem)
      return json(
        { message: problem, documentation_url: "https://docs.github.com/rest/apps/apps#get-the-authenticated-app" },
        401,
      );
    const owner = {
      login: this.appOwner,
      id: this.appOwnerId,
      node_id: "MDQ6VXNlcjU4MzIzMQ==",
      type: this.appOwnerType,
      site_admin: false,
    };
    return json({
      id: Number(this.appId),
      slug: this.appSlug,
      node_id: "A_kwHOAAjw_84AAQ",
      client_id: this.clientId,
      owner,
      name: this.appName,
      description: "",
      external_url: "https://worker.example",
      html_url: `https://github.com/apps/${this.appSlug}`,
      created_at: "2026-05-01T10:00:00Z",
      updated_at: "2026-05-01T10:00:00Z",
      permissions: MANIFEST_PERMISSIONS,
      events: ["issues", "issue_comment", "pull_request", "pull_request_review", "pull_request_review_comment"],
      installations_count: 1,
    });
  }

  /**
   * What an installation was granted (the manifest's permissions by default). A token asked with
   * more is refused with 422, as GitHub refuses it.
   */
  readonly installationPermissions: Record<string, "read" | "write"> = { ...MANIFEST_PERMISSIONS };
  /** Tokens asked for fewer repositories or permissions than the installation has, by token. */
  readonly tokenScopes = new Map<string, { repositories?: string[]; permissions: Record<string, string> }>();

  private async accessToken(
    authorization: string | undefined,
    installationId: number,
    body: unknown,
  ): Promise<Response> {
    const jwt = (authorization ?? "").replace(/^bearer\s+/i, "");
    const problem = await this.checkJwt(jwt);
    if (problem) {
      return json(
        {
          message: problem,
          documentation_url: "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app",
        },
        401,
      );
    }
    // POST /app/installations/{id}/access_tokens: optional `repositories` (names) and `permissions`, each at
    // most what the installation has.
    const asked = (isRecord(body) ? body : {}) as { repositories?: unknown; permissions?: unknown };
    const granted = this.installationPermissions;
    const permissions = isRecord(asked.permissions) ? (asked.permissions as Record<string, string>) : granted;
    const rank = (level: string | undefined) => (level === "write" ? 2 : level === "read" ? 1 : 0);
    if (Object.entries(permissions).some(([name, level]) => rank(level) === 0 || rank(level) > rank(granted[name]))) {
      return json(
        {
          message: "The permissions requested are not granted to this installation.",
          documentation_url: "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app",
          status: "422",
        },
        422,
      );
    }
    const repositories = Array.isArray(asked.repositories) ? asked.repositories.map(String) : undefined;
    const token = `ghs_${crypto.randomUUID().replace(/-/g, "")}${installationId}`;
    this.issuedTokens.add(token);
    if (repositories || isRecord(asked.permissions)) this.tokenScopes.set(token, { repositories, permissions });
    return json(
      {
        token,
        expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
        permissions,
        repository_selection: "selected",
        ...(repositories
          ? { repositories: repositories.map((name) => ({ name, full_name: `${this.appOwner}/${name}` })) }
          : {}),
      },
      201,
    );
  }

  private async checkJwt(jwt: string): Promise<string | undefined> {
    const parts = jwt.split(".");
    if (parts.length !== 3) return "A JSON web token could not be decoded";
    let header: { alg?: string };
    let claims: { iss?: unknown; iat?: number; exp?: number };
    try {
      header = JSON.parse(base64UrlDecode(parts[0]!));
      claims = JSON.parse(base64UrlDecode(parts[1]!));
    } catch {
      return "A JSON web token could not be decoded";
    }
    if (header.alg !== "RS256") return "'alg' must be RS256";
    if (String(claims.iss) !== this.appId && claims.iss !== this.clientId)
      return "'Issuer' claim ('iss') must be an Integer";
    const now = Math.floor(Date.now() / 1000);
    if (!claims.exp || claims.exp <= now || claims.exp - (claims.iat ?? now) > 600 + 60) {
      return "'Expiration time' claim ('exp') is too far in the future";
    }
    if (this.publicKeyPem) {
      const key = await crypto.subtle.importKey(
        "spki",
        pemToDer(this.publicKeyPem),
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        false,
        ["verify"],
      );
      const ok = await crypto.subtle.verify(
        "RSASSA-PKCS1-v1_5",
        key,
        base64UrlBytes(parts[2]!),
        new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
      );
      if (!ok) return "A JSON web token could not be decoded";
    }
    return undefined;
  }
}

function threadId(owner: string, repo: string, number: number): string {
  return `${owner}/${repo}#${number}`.toLowerCase();
}

function repoId(owner: string, repo: string): string {
  return `${owner}/${repo}`.toLowerCase();
}

function base64UrlBytes(text: string): Uint8Array {
  const b64 = text
    .replace(/-/g, "+")
    .replace(/_/g, "/")
    .padEnd(Math.ceil(text.length / 4) * 4, "=");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function base64UrlDecode(text: string): string {
  return new TextDecoder().decode(base64UrlBytes(text));
}

function pemToDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** A path parameter GitHub documents as a number: anything else is no route of its. */
function whole(param: string | readonly string[] | undefined): number | undefined {
  return typeof param === "string" && /^\d+$/.test(param) ? Number(param) : undefined;
}

/**
 * The lines of each hunk of a unified diff, by side, as GitHub lets a review comment sit on them: an
 * added or unchanged line on the RIGHT, a removed or unchanged one on the LEFT. Written from the diff
 * format, apart from src/.
 */
function fakeHunks(patch: string): { LEFT: Set<number>; RIGHT: Set<number> }[] {
  const hunks: { LEFT: Set<number>; RIGHT: Set<number> }[] = [];
  let left = 0;
  let right = 0;
  for (const line of patch.replace(/\n$/, "").split("\n")) {
    const header = line.match(/^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/);
    const hunk = hunks.at(-1);
    if (header) {
      hunks.push({ LEFT: new Set(), RIGHT: new Set() });
      left = Number(header[1]);
      right = Number(header[2]);
    } else if (!hunk || line.startsWith("\\")) {
    } else if (line.startsWith("+")) hunk.RIGHT.add(right++);
    else if (line.startsWith("-")) hunk.LEFT.add(left++);
    else {
      hunk.LEFT.add(left++);
      hunk.RIGHT.add(right++);
    }
  }
  return hunks;
}
