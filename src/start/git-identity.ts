import { isObject } from "../is-object";
import type { AppConversation, StartConversationRequest } from "../openhands/types";
import type { Services } from "../services";
import type { Task } from "../tasks/task";

/**
 * `GIT_IDENTITY=app`: the agent works on GitHub as this App, with a token for
 * the one repository, instead of the OpenHands key owner's login.
 *
 * From the service's source (openhands/app_server/app_conversation/, the SDK):
 * OpenHands clones `selected_repository` with the key owner's token, from their
 * login, and writes it into `origin`; no request field changes that. But the
 * start request's `secrets` win over the key owner's `GITHUB_TOKEN`, and the
 * agent's terminal exports a secret into any command that names it. So the
 * start names no repository (the workspace is an empty `git init`), hands the
 * token over as `GITHUB_TOKEN`, and the system prompt has the agent clone,
 * push and open pull requests with it. The token never enters the prompt, a
 * log, KV or a comment; OpenHands stores request secrets as "**********".
 */
const TOKEN_SECRET = "GITHUB_TOKEN";

/** The numeric id of `<slug>[bot]`, for the commit e-mail GitHub links to the App; plain values only. */
const botIds = new Map<string, number>();

async function botUserId(services: Services, installationId: number, slug: string): Promise<number | undefined> {
  const known = botIds.get(slug);
  if (known !== undefined) return known;
  const { data } = await services.github(installationId).request("GET /users/{username}", { username: `${slug}[bot]` });
  const id = isObject(data) && typeof data.id === "number" ? data.id : undefined;
  if (id !== undefined) botIds.set(slug, id);
  return id;
}

/** The start request's part that makes the agent work as the App. */
export async function appIdentityStart(
  services: Services,
  task: Task,
): Promise<Pick<StartConversationRequest, "secrets" | "system_message_suffix">> {
  const { request } = task;
  const { slug } = await services.appIdentity();
  const botId = await botUserId(services, request.installationId, slug);
  const token = await services.agentToken(request.installationId, request.repo);
  return {
    secrets: { [TOKEN_SECRET]: token },
    system_message_suffix: gitRules({
      webUrl: services.config.githubUrl,
      apiUrl: services.config.githubApiUrl,
      repository: request.repository,
      branch: task.branch,
      bot: `${slug}[bot]`,
      email: `${botId === undefined ? "" : `${botId}+`}${slug}[bot]@users.noreply.${new URL(services.config.githubUrl).hostname}`,
    }),
  };
}

/**
 * What the agent must do itself in this mode. Every command that talks to
 * GitHub names `$GITHUB_TOKEN`: the terminal exports a secret only into a
 * command that names it, and the Worker renews the token while the run lasts,
 * so a token written into `origin` would expire after an hour.
 */
function gitRules(view: {
  webUrl: string;
  apiUrl: string;
  repository: string;
  branch?: string;
  bot: string;
  email: string;
}): string {
  const host = new URL(view.webUrl).host;
  const remote = `https://x-access-token:$${TOKEN_SECRET}@${host}/${view.repository}.git`;
  // A branch name may hold `;`, `$` or `|`: quoted for the shell.
  const branch = view.branch ? ` --branch '${view.branch.replaceAll("'", "'\\''")}'` : "";
  const clone = `git clone${branch} ${remote}`;
  return [
    `You work on GitHub as the GitHub App ${view.bot}, with the token in the secret ${TOKEN_SECRET}, which is limited to ${view.repository}. The repository is not cloned for you:`,
    `1. Clone it with \`${clone}\` and work in that folder. Then read its AGENTS.md and run \`.openhands/setup.sh\` if they exist.`,
    `2. Commit as the App: \`git config user.name "${view.bot}"\`, \`git config user.email "${view.email}"\`, \`git config commit.gpgsign false\`.`,
    `3. Write $${TOKEN_SECRET} in every command that talks to GitHub, so that it carries the current token (it is renewed while you work): \`git push ${remote} HEAD:<branch>\`, \`git fetch ${remote}\`, \`GH_TOKEN=$${TOKEN_SECRET} gh pr create …\` or \`curl -H "Authorization: Bearer $${TOKEN_SECRET}" ${view.apiUrl}/…\`. Never write the token into the remote URL, a file or your messages.`,
    "4. Never use the create_pr tool or any other OpenHands GitHub tool: they act as another account. Open pull requests with gh or the REST API as above, and put each pull request's link in your final message.",
  ].join("\n");
}

/**
 * The token handed over at the start lasts an hour: while the run lasts, a
 * fresh one replaces it on the agent-server. Nothing is stored, so a refresh
 * that fails is tried again at the next one.
 */
export async function refreshAgentToken(services: Services, task: Task, conversation: AppConversation): Promise<Task> {
  const token = await services.agentToken(task.request.installationId, task.request.repo);
  await services.openhands.updateSecrets(conversation, { [TOKEN_SECRET]: token });
  return task;
}
