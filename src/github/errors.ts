/**
 * GitHub answered 2xx with a body we cannot use (Octokit hands back the raw text
 * when JSON does not parse). Treated like a 5xx: the step is retried later.
 */
export class GitHubGarbageError extends Error {
  readonly status = 502;
  constructor(what: string) {
    super(`GitHub sent an unreadable answer to ${what}`);
    this.name = "GitHubGarbageError";
  }
}
