import { TaskStore } from "../../src/tasks/store";
import type { Task } from "../../src/tasks/task";
import type { FakeGitHub } from "./fakes/github";
import { type ConversationScript, FakeOpenHands } from "./fakes/openhands";
import { callWorker, runCron, signedWebhook, startFakes, type TestEnv } from "./harness";
import { issueCommentPayload } from "./webhook";

/**
 * The run most tests want from OpenHands: one start status, one look while it runs, then done,
 * so a task ends in a tick or two. `changes` are what a test needs otherwise.
 */
export function quickScript(changes: Partial<ConversationScript> = {}): ConversationScript {
  return { ...FakeOpenHands.defaultScript(), startSteps: ["WORKING"], execution: ["running", "finished"], ...changes };
}

/** The statuses a task stays in once the thread has its answer. */
const ENDED = ["succeeded", "failed", "timed_out", "stopped"];

/** Every task the Worker keeps, read as the Worker reads them: received events are not tasks yet. */
export async function storedTasks(env: TestEnv): Promise<Task[]> {
  const store = new TaskStore(env.TASKS);
  const tasks = await Promise.all((await store.entries()).map((entry) => store.get(entry.id)));
  return tasks.filter((task): task is Task => task !== null);
}

/** The events kept but not decided yet: with `storedTasks`, everything the store holds under its task keys. */
export async function receivedEvents(env: TestEnv) {
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
export function startWorld({ role = "write", roles = {}, files = {}, script, env: overrides }: WorldOptions = {}) {
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
        if (tasks.length && tasks.every((task) => ENDED.includes(task.status))) return tasks;
      }
      return storedTasks(world.env);
    },
  };
  return world;
}

export type World = ReturnType<typeof startWorld>;
