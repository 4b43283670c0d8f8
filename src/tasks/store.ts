import { threadKey } from "../trigger/request";
import { isReceivedEvent, type ReceivedEvent } from "./received";
import { isFinal, isPending, type Task, type TaskStatus } from "./task";

/**
 * Workers KV layout, shaped by the Free plan's daily 1,000 lists and 1,000 writes:
 *
 *   task:<id>        the task as JSON; metadata {s: status, c: created ms, t: thread,
 *                    i: installation, r: rejection, st: started ms, g: the status of a thread gone}
 *                    so that one list() tells the poller, the limits and /status what they need
 *                    without reading values.
 *                    A webhook event not yet known to be a request (`received.ts`)
 *                    sits under the same prefix with s = "received", so the same
 *                    list() finds it for the cron to finish.
 *   poll:active      until when the cron lists (ms), with a KV expiration at that
 *                    time; while it is absent the cron skips list() altogether (a
 *                    read is cheap, a list is not). Set by a new task and kept by
 *                    the cron while tasks are pending, each only when it has less
 *                    than half its two hours left: at most one write an hour
 *                    however busy, no delete, and the newest task always has an
 *                    hour of listing ahead, far longer than list() takes to see it.
 *
 * The other keys of the namespace, each owned by its own module and never listed
 * by the cron (its list() asks for the `task:` prefix only):
 *
 *   repo-config:v3:<owner>/<repo>  `.github/openhands.yml` parsed, a week, rewritten only
 *                               when it changes (`repo-config/load.ts`)
 *   app:identity                the App's owner and slug, learnt daily (`github/app-identity.ts`)
 *   agent:login                 the agent's GitHub account, learnt daily (`openhands/agent-account.ts`)
 *   app:credentials             the App's credentials from /setup, sealed (`setup/credentials.ts`)
 *   status:cron                 the cron's usage for /status, only with STATUS_TOKEN (`ops/tick-record.ts`)
 *   thread:<owner>/<repo>#<n>   the thread's last conversation, for `continue_days` (`last-conversation.ts`)
 *
 * Ended tasks (and answered commands) stay a day, long enough for the hourly
 * limits, follow-ups and `status`, and few enough that the cron's list() stays
 * one page (1,000 keys) below about 900 requests a day. A delivery replayed
 * later finds its conversation on OpenHands instead (`start/advance-queued.ts`).
 */
const TASK_PREFIX = "task:";
const ACTIVE_KEY = "poll:active";
/** An event not yet decided: kept as long as a signed delivery is accepted (`MAX_TRIGGER_AGE_MS`). */
const RECEIVED_RETENTION_SECONDS = 8 * 24 * 3600;
const ENDED_RETENTION_SECONDS = 24 * 3600;
/** How long an ended task's record outlives it: an earlier delivery of a younger request still has its record. */
export const ENDED_RETENTION_MS = ENDED_RETENTION_SECONDS * 1000;
const ACTIVE_TTL_SECONDS = 2 * 3600;
const ACTIVE_REFRESH_WHEN_LEFT_MS = (ACTIVE_TTL_SECONDS * 1000) / 2;

export interface TaskMetadata {
  s: TaskStatus | "received";
  c: number;
  t: string;
  i: number;
  r?: Task["rejection"];
  /** When OpenHands accepted the start (ms), for the hourly limits. */
  st?: number;
  /** The task ended because its thread takes no comments (GitHub's status), for /status. */
  g?: number;
}

export interface TaskEntry {
  id: string;
  status: TaskStatus;
  createdMs: number;
  thread: string;
  installationId: number;
  rejection?: Task["rejection"];
  startedMs?: number;
  /** GitHub's status when the task ended because its thread is gone. */
  threadGone?: number;
}

export interface ReceivedEntry {
  id: string;
  receivedMs: number;
  installationId: number;
}

export class TaskStore {
  constructor(private readonly kv: KVNamespace) {}

  async get(id: string): Promise<Task | null> {
    const value = await this.kv.get<Task | ReceivedEvent>(TASK_PREFIX + id, "json");
    return value && !isReceivedEvent(value) ? value : null;
  }

  async getReceived(id: string): Promise<ReceivedEvent | null> {
    const value = await this.kv.get<Task | ReceivedEvent>(TASK_PREFIX + id, "json");
    return isReceivedEvent(value) ? value : null;
  }

  /** Records an event before the webhook answers; false when it was already recorded (a redelivery). */
  async saveReceived(received: ReceivedEvent): Promise<boolean> {
    if ((await this.kv.get(TASK_PREFIX + received.id)) !== null) return false;
    const metadata: TaskMetadata = {
      s: "received",
      c: Date.parse(received.receivedAt),
      t: threadKey({ repository: `${received.owner}/${received.repo}`, number: received.number }),
      i: received.installationId,
    };
    // Kept as long as GitHub may redeliver; the cron decides it long before. The activity
    // marker is left alone: the webhook decides nearly every event itself, and one it
    // could not finish is marked by `decideReceived`, or found by the hourly sweep.
    await this.kv.put(TASK_PREFIX + received.id, JSON.stringify(received), {
      metadata,
      expirationTtl: RECEIVED_RETENTION_SECONDS,
    });
    return true;
  }

  /** Forgets a received event once decided, or a request that was not allowed. */
  async delete(id: string): Promise<void> {
    await this.kv.delete(TASK_PREFIX + id);
  }

  /** Writes only when something changed: each write counts against the daily quota. */
  async save(task: Task, previous?: Task | null): Promise<boolean> {
    if (previous && JSON.stringify(previous) === JSON.stringify(task)) return false;
    const metadata: TaskMetadata = {
      s: task.status,
      c: Date.parse(task.createdAt),
      t: threadKey(task.request),
      i: task.request.installationId,
      ...(task.rejection ? { r: task.rejection } : {}),
      ...(task.startedAt ? { st: Date.parse(task.startedAt) } : {}),
      ...(task.threadGone ? { g: task.threadGone.status } : {}),
    };
    await this.kv.put(TASK_PREFIX + task.id, JSON.stringify(task), {
      metadata,
      ...(isFinal(task.status) ? { expirationTtl: ENDED_RETENTION_SECONDS } : {}),
    });
    if (!previous) await this.markActive();
    return true;
  }

  /** Until when the cron lists (ms), or undefined when nothing happened for two hours. */
  async activeUntil(): Promise<number | undefined> {
    const value = await this.kv.get(ACTIVE_KEY);
    return value ? Number(value) : undefined;
  }

  /** Keeps the cron listing for the next two hours; `until` is the marker when already read. */
  async markActive(now = Date.now(), until?: number): Promise<void> {
    const current = until ?? (await this.activeUntil());
    if (current !== undefined && current - now > ACTIVE_REFRESH_WHEN_LEFT_MS) return;
    await this.kv.put(ACTIVE_KEY, String(now + ACTIVE_TTL_SECONDS * 1000), { expirationTtl: ACTIVE_TTL_SECONDS });
  }

  /** Every task still kept, pending or recently ended, oldest first, from list() metadata alone. */
  async entries(): Promise<TaskEntry[]> {
    return (await this.index()).tasks;
  }

  /** One list() for both the tasks and the events still waiting to be decided. */
  async index(): Promise<{ tasks: TaskEntry[]; received: ReceivedEntry[] }> {
    const entries: TaskEntry[] = [];
    const received: ReceivedEntry[] = [];
    let cursor: string | undefined;
    do {
      const page: KVNamespaceListResult<TaskMetadata, string> = await this.kv.list<TaskMetadata>({
        prefix: TASK_PREFIX,
        cursor,
      });
      for (const key of page.keys) {
        const meta = key.metadata;
        if (!meta) continue;
        const id = key.name.slice(TASK_PREFIX.length);
        if (meta.s === "received") {
          received.push({ id, receivedMs: meta.c, installationId: meta.i });
          continue;
        }
        entries.push({
          id,
          status: meta.s,
          createdMs: meta.c,
          thread: meta.t,
          installationId: meta.i,
          rejection: meta.r,
          startedMs: meta.st,
          ...(meta.g ? { threadGone: meta.g } : {}),
        });
      }
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    return { tasks: entries.sort((a, b) => a.createdMs - b.createdMs), received };
  }
}

export function pendingEntries(entries: readonly TaskEntry[]): TaskEntry[] {
  return entries.filter((entry) => isPending(entry.status));
}
