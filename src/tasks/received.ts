/**
 * A signed webhook event that may be a request, recorded before the App
 * answers GitHub. Whether it is one depends on the repository's
 * `.github/openhands.yml` (a custom mention, a label, events switched off),
 * which takes GitHub calls to read: those happen after the answer, in
 * `waitUntil`, and again from the cron if that was cut short. Once decided, the
 * record is replaced by a task, or dropped quietly when it asked for nothing.
 */
export interface ReceivedEvent {
  kind: "received";
  /** 32 hex, derived from the event name and the exact body: a redelivery finds it. */
  id: string;
  event: string;
  payload: unknown;
  delivery?: string;
  owner: string;
  repo: string;
  /** The issue or pull request, for the per-thread index. */
  number: number;
  installationId: number;
  receivedAt: string;
}

/** How long a received event belongs to the webhook deciding it after its answer: the cron waits that long. */
export const WEBHOOK_OWNS_RECEIVED_MS = 60_000;

export function isReceivedEvent(value: unknown): value is ReceivedEvent {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "received";
}
