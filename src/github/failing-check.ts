/** A check that failed on a commit, with what the agent needs to fix it: never more than it can read. */
export interface FailingCheck {
  name: string;
  conclusion: string;
  /** The check's own output: its title and summary, as the check wrote them. */
  title?: string;
  summary?: string;
  annotations: { path: string; line?: number; level: string; message: string }[];
  /** For GitHub Actions: the end of the failed job's log, timestamps cut. */
  logTail?: string;
  url?: string;
}
