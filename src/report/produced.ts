import { escapeRegExp } from "../escape-regexp";
import type { PullRequestSummary } from "../github/pull-request";
import { pullRequestHead, readPullRequest } from "../github/pulls";
import type { AppConversation } from "../openhands/types";
import type { Services } from "../services";
import type { Task } from "../tasks/task";
import type { Produced } from "./messages";

/** Pull requests read back at most, so a long message cannot spend the tick's budget. */
const MAX_PULLS_READ = 3;
/** GitHub requests `findProducedWork` may make: the pull requests, then the thread's own head. */
export const PRODUCED_COST = MAX_PULLS_READ + 1;

/**
 * Which pull requests the run opened or pushed to, from what the service and
 * the agent say, each one read back from GitHub (the agent's word alone names
 * nothing): the conversation's `pr_number`, then pull request links and "PR
 * #n" in the final message. Failing those, on a pull request's own thread, a
 * new head commit means the agent pushed there. Otherwise it changed nothing.
 */
export async function findProducedWork(
  services: Pick<Services, "github">,
  task: Task,
  conversation: Pick<AppConversation, "pr_number"> | null,
  message: string,
): Promise<Produced> {
  const { request } = task;
  const github = services.github(request.installationId);
  const candidates = pullRequestsNamed(task, conversation, message).slice(0, MAX_PULLS_READ);
  const pulls: PullRequestSummary[] = [];
  for (const candidate of candidates) {
    const pull = await readPullRequest(github, candidate);
    // The service records a number without its repository: one read here must have been opened by this run.
    if (pull && (!candidate.openedByRun || !(Date.parse(pull.createdAt) < Date.parse(task.createdAt))))
      pulls.push(pull);
  }
  if (pulls.length > 0) return { kind: "pull_requests", pulls };
  if (request.isPullRequest && task.headSha) {
    const head = await pullRequestHead(github, { owner: request.owner, repo: request.repo, number: request.number });
    if (head.sha && head.sha !== task.headSha) return { kind: "pushed", branch: head.ref };
  }
  return { kind: "none" };
}

/** Where GitHub's pages live, from the link to the request (github.com, or a GitHub Enterprise Server). */
function webOrigin(commentUrl: string): string {
  try {
    return new URL(commentUrl).origin;
  } catch {
    return "https://github.com";
  }
}

interface Candidate {
  owner: string;
  repo: string;
  number: number;
  /** From `pr_number`: only a pull request opened during the run is the one meant. */
  openedByRun: boolean;
}

/** Candidates in the order they are trusted, without repeats; the thread's own pull request only counts as a push. */
function pullRequestsNamed(
  task: Task,
  conversation: Pick<AppConversation, "pr_number"> | null,
  message: string,
): Candidate[] {
  const { request } = task;
  const here = { owner: request.owner, repo: request.repo };
  const found = new Map<string, Candidate>();
  const add = (owner: string, repo: string, number: number, openedByRun = false) => {
    if (!Number.isSafeInteger(number) || number <= 0) return;
    const key = `${owner}/${repo}#${number}`.toLowerCase();
    const own = request.isPullRequest && key === `${request.repository}#${request.number}`.toLowerCase();
    if (!own && !found.has(key)) found.set(key, { owner, repo, number, openedByRun });
  };
  for (const number of conversation?.pr_number ?? []) add(here.owner, here.repo, number, true);
  const links = new RegExp(`${escapeRegExp(webOrigin(request.commentUrl))}/([\\w.-]+)/([\\w.-]+)/pull/(\\d+)`, "gi");
  for (const [, owner, repo, number] of message.matchAll(links)) add(owner!, repo!, Number(number));
  for (const [, number] of message.matchAll(/\b(?:PR|pull request)\s*#(\d+)\b/gi))
    add(here.owner, here.repo, Number(number));
  return [...found.values()];
}
