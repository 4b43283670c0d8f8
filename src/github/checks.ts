import { httpStatus } from "../http-status";
import { isObject } from "../is-object";
import { log } from "../log";
import type { GitHub } from "./client";
import { GitHubGarbageError } from "./errors";
import type { FailingCheck } from "./failing-check";

/** Conclusions that mean "this is broken": a cancelled or neutral check is someone's choice, not a failure. */
const FAILED = new Set(["failure", "timed_out", "startup_failure"]);
/** Checks detailed (annotations, log); the others are named only. */
const MAX_DETAILED = 2;
const MAX_ANNOTATIONS = 20;
const LOG_LINES = 150;
const LOG_CHARS = 12_000;
const SUMMARY_CHARS = 2_000;

/**
 * GitHub requests `failingChecks` makes at most: the list, then each detailed check's annotations and its
 * log (the redirect and the text behind it).
 */
export const CHECKS_COST = 1 + MAX_DETAILED * 3;

/**
 * The failing checks of a commit. Undefined when GitHub will not say: an App installed before it asked
 * for `checks: read` and `actions: read` gets 403 until the owner accepts them, and the request goes on
 * without. Each detail that cannot be read is left out, never the check.
 */
export async function failingChecks(
  github: GitHub,
  repo: { owner: string; repo: string },
  sha: string,
  fetchLog: typeof fetch,
): Promise<FailingCheck[] | undefined> {
  let runs: unknown;
  try {
    const { data } = await github.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      ...repo,
      ref: sha,
      filter: "latest",
      per_page: 100,
    });
    runs = isObject(data) ? data.check_runs : undefined;
  } catch (error) {
    const status = httpStatus(error);
    if (status !== 403 && status !== 404) throw error;
    log("warn", "github.checks_unreadable", { status });
    return undefined;
  }
  if (!Array.isArray(runs)) throw new GitHubGarbageError("list check runs");
  const failed = runs.filter(isObject).filter((run) => FAILED.has(String(run.conclusion)));
  return Promise.all(
    failed.map(async (run, i) => {
      const check = checkOf(run);
      if (i >= MAX_DETAILED || typeof run.id !== "number") return check;
      const output = isObject(run.output) ? run.output : {};
      const [annotations, logTail] = await Promise.all([
        Number(output.annotations_count) > 0 ? readAnnotations(github, repo, run.id) : [],
        isObject(run.app) && run.app.slug === "github-actions"
          ? readLogTail(github, repo, run.id, fetchLog)
          : undefined,
      ]);
      return { ...check, annotations, ...(logTail ? { logTail } : {}) };
    }),
  );
}

function checkOf(run: Record<string, unknown>): FailingCheck {
  const output = isObject(run.output) ? run.output : {};
  const text = (value: unknown, max: number) =>
    typeof value === "string" && value.trim() ? value.trim().slice(0, max) : undefined;
  const title = text(output.title, 300);
  const summary = text(output.summary, SUMMARY_CHARS);
  const url = text(run.html_url, 500);
  return {
    name: text(run.name, 200) ?? "(unnamed check)",
    conclusion: String(run.conclusion),
    ...(title ? { title } : {}),
    ...(summary ? { summary } : {}),
    annotations: [],
    ...(url ? { url } : {}),
  };
}

async function readAnnotations(
  github: GitHub,
  repo: { owner: string; repo: string },
  checkRunId: number,
): Promise<FailingCheck["annotations"]> {
  try {
    const { data } = await github.request("GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", {
      ...repo,
      check_run_id: checkRunId,
      per_page: MAX_ANNOTATIONS,
    });
    if (!Array.isArray(data)) return [];
    return data
      .filter(isObject)
      .slice(0, MAX_ANNOTATIONS)
      .map((a) => ({
        path: String(a.path ?? ""),
        ...(typeof a.start_line === "number" ? { line: a.start_line } : {}),
        level: String(a.annotation_level ?? "failure"),
        message: String(a.message ?? "").slice(0, 1_000),
      }));
  } catch (error) {
    log("warn", "github.annotations_unreadable", { status: httpStatus(error) });
    return [];
  }
}

/**
 * The end of a GitHub Actions job's log. A check run of GitHub Actions is its job (the same id). GitHub
 * answers 302 with a short-lived link to the plain text, which is fetched without our token.
 */
async function readLogTail(
  github: GitHub,
  repo: { owner: string; repo: string },
  jobId: number,
  fetchLog: typeof fetch,
): Promise<string | undefined> {
  try {
    const answer = await github.request("GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs", {
      ...repo,
      job_id: jobId,
      request: { redirect: "manual" },
    });
    const location = answer.headers.location;
    const text = location
      ? await (await fetchLog(location, { signal: AbortSignal.timeout(10_000) })).text()
      : typeof answer.data === "string"
        ? answer.data
        : "";
    const lines = text.replace(/\r\n/g, "\n").trimEnd().split("\n").slice(-LOG_LINES);
    const tail = lines.map((line) => line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, "")).join("\n");
    return tail ? tail.slice(-LOG_CHARS) : undefined;
  } catch (error) {
    log("warn", "github.job_log_unreadable", { status: httpStatus(error) });
    return undefined;
  }
}
