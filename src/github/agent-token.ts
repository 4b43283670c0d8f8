import { RequestError } from "@octokit/request-error";
import { httpStatus } from "../http-status";
import { isObject } from "../is-object";
import { type AppAuthConfig, appClient } from "./client";
import { GitHubGarbageError } from "./errors";

/**
 * What the agent may do with `GIT_IDENTITY=app`: push to and open pull requests on the one
 * repository of the request, and comment there. Nothing else, whatever the App may.
 */
const AGENT_TOKEN_PERMISSIONS = { contents: "write", pull_requests: "write", issues: "write" } as const;

/** The installation refused the token: the App lacks a permission, or the repository is not in the installation. */
export class AgentTokenRefusedError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = "AgentTokenRefusedError";
  }
}

/**
 * A fresh installation token for the agent, scoped to one repository and to
 * `AGENT_TOKEN_PERMISSIONS`, valid an hour. Never cached and never stored: it
 * is handed to the agent's sandbox as a secret and nowhere else.
 */
export async function mintAgentToken(
  config: AppAuthConfig,
  installationId: number,
  repo: string,
  fetch: typeof globalThis.fetch,
): Promise<string> {
  try {
    const { data } = await appClient(config, fetch).request("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: installationId,
      repositories: [repo],
      permissions: AGENT_TOKEN_PERMISSIONS,
    });
    if (!isObject(data) || typeof data.token !== "string" || !data.token) throw new GitHubGarbageError("mint a token");
    return data.token;
  } catch (error) {
    // 422: a permission the installation was not granted, or a repository it cannot see. Asking again will not help.
    if (error instanceof RequestError && httpStatus(error) === 422) {
      throw new AgentTokenRefusedError(
        `GitHub would not give the agent a token for ${repo} (GIT_IDENTITY=app needs the App's Contents, Pull requests and Issues permissions set to read and write, accepted on this installation)`,
      );
    }
    throw error;
  }
}
