import { env } from "cloudflare:test";
import { http, passthrough } from "msw";
import { expect } from "vitest";
import { forgetAppIdentity } from "../../src/github/app-identity";
import { clearInstallationTokenCache } from "../../src/github/client";
import { forgetDenied } from "../../src/github/permission";
import { forgetClaims } from "../../src/isolate-claims";
import { forgetAgentLogin } from "../../src/openhands/agent-account";
import { forgetUnsavedTicks } from "../../src/ops/tick-record";
import { clearRepoConfigMemory } from "../../src/repo-config/load";
import { TaskStore } from "../../src/tasks/store";
import { isFinal, type Task } from "../../src/tasks/task";
import { FakeGitHub } from "./fakes/github";
import { type ConversationScript, FakeOpenHands } from "./fakes/openhands";
import { callWorker, restartSimulatedClock, runCron, signedWebhook, type TestEnv } from "./harness";
import { network } from "./network";
import { issueCommentPayload } from "./webhook";

/** The GitHub fakes of the running test. */
const fakeGitHubs: FakeGitHub[] = [];

/** Fails the test if the App posted anything OpenHands' own GitHub App would answer (run after each test). */
export function expectNothingOpenHandsAppAnswers() {
  const answered = fakeGitHubs.flatMap((github) => github.bodiesOpenHandsAppAnswers());
  fakeGitHubs.length = 0;
  expect(answered, "comments OpenHands' own GitHub App would answer").toEqual([]);
}

/**
 * A GitHub and an OpenHands fake wired to the Worker's outbound fetch through msw, with the
 * isolate's caches of an earlier test forgotten.
 */
function startFakes(overrides: Partial<TestEnv>) {
  clearInstallationTokenCache();
  clearRepoConfigMemory();
  forgetAppIdentity();
  forgetAgentLogin();
  forgetDenied();
  forgetUnsavedTicks();
  forgetClaims();
  const github = new FakeGitHub({
    appId: env.GITHUB_APP_ID,
    publicKeyPem: env.TEST_PUBLIC_KEY,
    baseUrl: overrides.GITHUB_API_URL,
  });
  fakeGitHubs.push(github);
  const openhands = new FakeOpenHands({ apiKey: env.OPENHANDS_API_KEY, baseUrl: overrides.OPENHANDS_BASE_URL });
  openhands.rateLimitClock = restartSimulatedClock();
  network.use(
    http.all("*", async ({ request }) => {
      const req = request as unknown as Request;
      return (await github.handle(req.clone())) ?? (await openhands.handle(req)) ?? passthrough();
    }),
  );
  return { github, openhands, env: { ...env, ...overrides } as TestEnv };
}

/**
 * The run most tests want from OpenHands: one start status, one look while it runs, then done,
 * so a task ends in a tick or two. `changes` are what a test needs otherwise.
 */
export function quickScript(changes: Partial<ConversationScript> = {}): ConversationScript {
  return { ...FakeOpenHands.defaultScript(), startSteps: ["WORKING"], execution: ["running", "finished"], ...changes };
}

/** Every task the Worker keeps, read as the Worker reads them: received events are not tasks yet. */
export async function storedTasks(env: TestEnv): Promise<Task[]> {
  const store = new TaskStore(env.TASKS);
  const tasks = await Promise.all((await store.entries()).map((entry) => store.get(entry.id)));
  return tasks.filter((task): task is Task => task !== null);
}

/** The events kept but not decided yet: with `storedTasks`, everything the store holds under its task keys. */
async function receivedEvents(env: TestEnv) {
  return (await new TaskStore(env.TASKS).index()).received;
}

type Role = FakeGitHub["permissions"] extends Map<string, infer R> ? R : never;

export interface WorldOptions {
  /** The requester's (codertocat's) permission on the repository; null leaves GitHub's default. */
  role?: Role | null;
  /** Other accounts' permissions on the repository. */
  roles?: Record<string, Role>;
  /** Files in the repositories, as `owner/repo:path` to text. */
  files?: Record<string, string>;
  /** How OpenHands' run differs from `quickScript()`. */
  script?: Partial<ConversationScript>;
  /** Bindings that differ from the tests' environment. */
  env?: Partial<TestEnv>;
}

/** One test's GitHub, OpenHands and Worker, with the moves most tests make. */
export function startWorld({ role = "write", roles = {}, files = {}, script, env: overrides = {} }: WorldOptions = {}) {
  const fakes = startFakes(overrides);
  if (role) fakes.github.permissions.set("codertocat", role);
  for (const [login, other] of Object.entries(roles)) fakes.github.permissions.set(login, other);
  for (const [key, text] of Object.entries(files)) fakes.github.files.set(key, text);
  fakes.openhands.nextScript = quickScript(script);
  // The moves read `world.env` when they run: a test may change a binding after the start.
  const world = {
    ...fakes,
    deliver: async (event: string, payload: unknown, options?: Parameters<typeof signedWebhook>[2]) =>
      callWorker(await signedWebhook(event, payload, options), world.env),
    /** A maintainer's comment, delivered as `issue_comment.created`; the Worker's work in waitUntil is done. */
    comment: (body: string, options?: Parameters<typeof issueCommentPayload>[1]) =>
      world.deliver("issue_comment", issueCommentPayload(body, options)),
    /** What the thread shows (the example payload's issue unless told another). */
    comments: (owner = "Codertocat", repo = "Hello-World", number = 1) => fakes.github.commentsOn(owner, repo, number),
    tasks: () => storedTasks(world.env),
    received: () => receivedEvents(world.env),
    /**
     * Cron ticks, the first `from` minutes ahead and each `every` minutes after the last, until every task
     * has ended (or `max` ticks); the tasks as they are then.
     */
    tickUntilEnded: async ({ from = 0, every = 0, max = 10 } = {}) => {
      for (let tick = 0; tick < max; tick++) {
        await runCron(world.env, new Date(Date.now() + (from + every * tick) * 60_000));
        const tasks = await storedTasks(world.env);
        if (tasks.length && tasks.every((task) => isFinal(task.status))) return tasks;
      }
      return storedTasks(world.env);
    },
  };
  return world;
}

export type World = ReturnType<typeof startWorld>;
