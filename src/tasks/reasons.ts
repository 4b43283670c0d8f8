/**
 * Why a task waits or failed, as data: the steps say which reason and its figures,
 * and only report/messages.ts turns a reason into words, so that one file shows
 * everything the App can say.
 */

/** An upstream that would not do its part this time. `detail` is its own message, already redacted. */
export type UpstreamTrouble =
  | { service: "openhands"; detail: string }
  /** `refusal`: what GitHub would not grant, and what to change, when the App knows. */
  | { service: "github"; status?: number; refusal?: string }
  /** A library choked on an odd answer. */
  | { service: "unknown" };

/** Why a request is still in the queue (the ⏳ comment). */
export type WaitReason =
  | { kind: "thread_busy" }
  | { kind: "no_free_slot"; running: number; limit: number }
  | { kind: "hourly_limit"; scope: "thread" | "installation"; limit: number }
  | { kind: "upstream"; trouble: UpstreamTrouble };

/** Why a task failed (the ❌ comment, and what the thread's next request is told). */
export type FailureReason =
  /** OpenHands took the start, then its start task ended in ERROR; `detail` is the service's. */
  | { kind: "start_errored"; detail?: string }
  /** OpenHands answered the start request with a refusal of its own. */
  | { kind: "start_refused"; detail: string }
  /** A 4xx that will not change however often it is sent. */
  | { kind: "start_rejected"; trouble: UpstreamTrouble }
  | { kind: "start_attempts_spent"; attempts: number; trouble: UpstreamTrouble }
  /** GitHub would not mint the agent's token; `detail` says what the installation lacks. */
  | { kind: "agent_token_refused"; detail: string }
  | { kind: "start_unknown" }
  | { kind: "conversation_gone" }
  | { kind: "sandbox_failed" }
  | { kind: "sandbox_gone" }
  | { kind: "sandbox_not_back" }
  /** The agent's own run ended badly; `detail` is the service's last error, written by the agent or its model. */
  | { kind: "agent"; status: "error" | "stuck"; resumed: boolean; detail?: string };

/** A run that reads as gone, for the decision and the logs. */
export type GoneRead = "conversation_gone" | "sandbox_failed" | "sandbox_missing";
