import { escapeRegExp } from "../escape-regexp";
import type { PullRequestOrigin, PullRequestSummary } from "../github/pull-request";
import { committedAt, pullRequestHead, readPullRequest } from "../github/pulls";
import { knownAgentLogin } from "../openhands/agent-account";
import type { AppConversation } from "../openhands/types";
import type { Services } from "../services";
import type { Task } from "../tasks/task";
import type { Produced } from "./messages";

/** Pull requests read back at most, so a long message cannot spend the tick's budget. */
const MAX_PULLS_READ = 3;
/**
 * Head commits read at most: one, for a pull request opened before the run and
 * touched during it (a follow-up pushing to the branch the first run opened).
 */
const MAX_COMMITS_READ = 1;
/** GitHub requests `findProducedWork` may make: the pull requests, a head commit, then the thread's own head. */
export const PRODUCED_COST = MAX_PULLS_READ + MAX_COMMITS_READ + 1;

/**
 * Which pull requests the run opened or pushed to. The service and the agent
 * only name candidates (the conversation's `pr_number`, then pull request
 * links and "PR #n" in the final message); the result line claims one only
 * when GitHub shows the run made it (`madeByRun`). Failing those, on a pull
 * request's own thread, a new head commit means the agent pushed there.
 * Otherwise it changed nothing. Whatever else the agent names stays in its own
 * quoted words, never in the App's result line.
 */
export async function findProducedWork(
  services: Pick<Services, "github" | "config" | "kv" | "appIdentity">,
  task: Task,
  conversation: Pick<AppConversation, "pr_number"> | null,
  message: string,
): Promise<Produced> {
  const { request } = task;
  const github = services.github(request.installationId);
  const here = { owner: request.owner, repo: request.repo };
  const candidates = pullRequestsNamed(task, conversation, message, services.config.githubUrl).slice(0, MAX_PULLS_READ);
  const agent = candidates.length > 0 ? await agentAccounts(services) : new Set<string>();
  const run = {
    repository: request.repository,
    // GitHub's and git's times are whole seconds: the second the request was recorded in counts as the run's.
    startedMs: Math.floor(Date.parse(task.createdAt) / 1000) * 1000,
    branchPrefix: request.settings.branchPrefix,
    agent,
  };
  let commitsLeft = MAX_COMMITS_READ;
  const pulls: PullRequestSummary[] = [];
  for (const candidate of candidates) {
    const read = await readPullRequest(github, { ...here, number: candidate.number });
    if (!read) continue;
    let verdict = madeByRun(read.origin, run, candidate.openedByRun);
    if (verdict === "if pushed during the run" && commitsLeft > 0) {
      commitsLeft--;
      const committed = Date.parse((await committedAt(github, here, read.origin.headSha)) ?? "");
      verdict = committed >= run.startedMs ? "yes" : "no";
    }
    if (verdict === "yes") pulls.push(read.summary);
  }
  if (pulls.length > 0) return { kind: "pull_requests", pulls };
  if (request.isPullRequest && task.headSha) {
    const head = await pullRequestHead(github, { ...here, number: request.number });
    if (head.sha && head.sha !== task.headSha) return { kind: "pushed", branch: head.ref };
  }
  return { kind: "none" };
}

interface Run {
  /** `owner/repo` the request was made in. */
  repository: string;
  /** When the request was recorded (to the second): nothing of the run's is older. */
  startedMs: number;
  branchPrefix: string;
  /** Lower-case logins the agent writes as. */
  agent: ReadonlySet<string>;
}

/**
 * Whether GitHub shows that the run made this pull request: in this
 * repository, from one of its own branches (a fork's branch is its owner's),
 * that branch the agent's (under `branch_prefix`, or the pull request opened
 * by the agent's account), and opened during the run, or touched during it
 * and then only if its head commit is from the run (one more read). A number
 * from `pr_number` must have been opened during the run: the service records
 * it without its repository, and an older one here is another repository's.
 */
function madeByRun(
  origin: PullRequestOrigin,
  run: Run,
  openedByRun: boolean,
): "yes" | "no" | "if pushed during the run" {
  const here = run.repository.toLowerCase();
  if (origin.baseRepository.toLowerCase() !== here || origin.headRepository?.toLowerCase() !== here) return "no";
  const agentBranch =
    (run.branchPrefix !== "" && origin.headRef.startsWith(run.branchPrefix)) ||
    run.agent.has(origin.author.toLowerCase());
  if (!agentBranch) return "no";
  if (Date.parse(origin.createdAt) >= run.startedMs) return "yes";
  if (openedByRun || !(Date.parse(origin.updatedAt) >= run.startedMs) || !origin.headSha) return "no";
  return "if pushed during the run";
}

/**
 * The accounts the agent writes as, when known without asking anyone here:
 * the OpenHands key owner's login (`AGENT_GITHUB_LOGIN`, or learnt by the
 * cron), and with `GIT_IDENTITY=app` this App's bot. The cron learns both at
 * the start of the tick that reports, so neither costs a request here.
 */
async function agentAccounts(services: Pick<Services, "config" | "kv" | "appIdentity">): Promise<Set<string>> {
  const accounts = new Set<string>();
  const login = await knownAgentLogin(services.config, services.kv).catch(() => undefined);
  if (login) accounts.add(login.toLowerCase());
  if (services.config.gitIdentity === "app") {
    const app = await services.appIdentity().catch(() => undefined);
    if (app) accounts.add(`${app.slug}[bot]`.toLowerCase());
  }
  return accounts;
}

interface Candidate {
  number: number;
  /** From `pr_number`: only a pull request opened during the run is the one meant. */
  openedByRun: boolean;
}

/**
 * Candidates in this repository, in the order they are trusted, without
 * repeats; the thread's own pull request only counts as a push. A link to
 * another repository is never read: nothing there is the run's to claim.
 */
function pullRequestsNamed(
  task: Task,
  conversation: Pick<AppConversation, "pr_number"> | null,
  message: string,
  /** Where GitHub's pages live (github.com, or a GitHub Enterprise Server). */
  githubUrl: string,
): Candidate[] {
  const { request } = task;
  const found = new Map<number, Candidate>();
  const add = (number: number, openedByRun = false) => {
    if (!Number.isSafeInteger(number) || number <= 0) return;
    const own = request.isPullRequest && number === request.number;
    if (!own && !found.has(number)) found.set(number, { number, openedByRun });
  };
  for (const number of conversation?.pr_number ?? []) add(number, true);
  const links = new RegExp(`${escapeRegExp(githubUrl)}/([\\w.-]+/[\\w.-]+)/pull/(\\d+)`, "gi");
  for (const [, repository, number] of message.matchAll(links))
    if (repository!.toLowerCase() === request.repository.toLowerCase()) add(Number(number));
  for (const [, number] of message.matchAll(/\b(?:PR|pull request)\s*#(\d+)\b/gi)) add(Number(number));
  return [...found.values()];
}
