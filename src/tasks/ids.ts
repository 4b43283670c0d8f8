import { createHash } from "node:crypto";

/**
 * The conversation id is derived from what triggered it, so that a webhook
 * delivered twice (GitHub delivers at least once) asks OpenHands for the same
 * conversation instead of starting a second agent.
 */
export function conversationIdFor(triggerKey: string): string {
  // node:crypto (nodejs_compat) hashes synchronously; WebCrypto's digest is a round trip per call.
  const bytes = createHash("sha256").update(`openhands-github-app:${triggerKey}`).digest().subarray(0, 16);
  // RFC 9562 version 8 (custom) with the RFC variant: a valid UUID for the service's validator.
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** OpenHands accepts either form; the dashed one is what validators expect to see. */
export function dashed(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
