import { describe, expect, it } from "vitest";
import { FakeOpenHands } from "./fakes/openhands";
import { FAULTS, type FaultName } from "./faults";
import { startWorld } from "./world";

/**
 * Every upstream call on the path from comment to result, failed in every way
 * an upstream fails, three times in a row (more than Octokit's one quick retry,
 * so the failure reaches our own retry logic). Whatever fails, the request must
 * survive and end with exactly one, correct, tracking comment.
 */
export interface UpstreamCall {
  upstream: "github" | "openhands";
  method: string;
  path: RegExp;
  name: string;
}

export const CALLS: UpstreamCall[] = [
  { upstream: "github", method: "POST", path: /\/access_tokens$/, name: "installation token" },
  { upstream: "github", method: "GET", path: /\/contents\/\.github(%2F|\/)openhands\.yml$/, name: "config file read" },
  { upstream: "github", method: "GET", path: /\/collaborators\/[^/]+\/permission$/, name: "permission check" },
  { upstream: "github", method: "POST", path: /\/reactions$/, name: "👀 reaction" },
  {
    upstream: "github",
    method: "GET",
    path: /\/issues\/\d+\/comments$/,
    name: "discussion and tracking comment lookup",
  },
  { upstream: "github", method: "POST", path: /\/issues\/\d+\/comments$/, name: "tracking comment" },
  { upstream: "github", method: "PATCH", path: /\/issues\/comments\/\d+$/, name: "result edit" },
  { upstream: "openhands", method: "POST", path: /^\/api\/v1\/app-conversations$/, name: "start" },
  {
    upstream: "openhands",
    method: "GET",
    path: /^\/api\/v1\/app-conversations\/start-tasks$/,
    name: "start-task read",
  },
  { upstream: "openhands", method: "GET", path: /^\/api\/v1\/app-conversations$/, name: "conversation read" },
  { upstream: "openhands", method: "GET", path: /\/agent_final_response$/, name: "final answer" },
];

/** The agent's first sentence: its link is quoted as code, so the message is not posted byte for byte. */
const FINAL_WORDS = FakeOpenHands.defaultScript().finalMessage!.split(". ")[0]!;

export function faultSuite(calls: UpstreamCall[]): void {
  describe.each(calls)("when the $name ($upstream $method) fails", (call) => {
    it.each(Object.keys(FAULTS) as FaultName[])(
      "with %s, the task survives and ends with one correct comment",
      async (fault) => {
        const fakes = startWorld({ env: { UPSTREAM_TIMEOUT_SECONDS: "0.3" } });
        const fake = call.upstream === "github" ? fakes.github : fakes.openhands;
        fake.failNext(call.method, call.path, FAULTS[fault], 3);

        const response = await fakes.comment("@openhands-app fix the bug");
        expect(response.status).toBe(202);

        // Cron ticks, each a few minutes later than the last, so that backoffs elapse.
        const [task] = await fakes.tickUntilEnded({ from: 4, every: 4, max: 12 });

        expect(task?.status).toBe("succeeded");
        const comments = fakes.github.commentsOn("Codertocat", "Hello-World", 1);
        expect(comments).toHaveLength(1);
        expect(comments[0]!.body).toContain("OpenHands finished");
        expect(comments[0]!.body).toContain(`> ${FINAL_WORDS}`);
        // the acknowledgement too, even when GitHub refused it at first
        expect(fakes.github.reactions.map((r) => r.content)).toEqual(["eyes"]);
        // one agent, whatever was retried
        expect(fakes.openhands.startTasks.size).toBe(1);
        expect(fakes.openhands.conversations.size).toBe(1);
      },
    );
  });
}
