import type { OpenHandsClient } from "./client";
import type { AppConversation, OpenHandsEvent } from "./types";

/**
 * Events asked for per search. The service loads only the page it answers, after
 * choosing the files by kind from their names (app_server/event/filesystem_event_service.py),
 * so a kind-filtered page of a few newest events costs the same however many a long run stored.
 */
const NEWEST = 5;
/** State updates are mostly `stats`; the last execution status of an ended run is among the newest. */
const NEWEST_STATE_UPDATES = 25;

/**
 * The service's own rule for "the agent's final answer": newest first, the
 * first finish action or agent message wins. An empty string means no answer.
 */
function finalResponseFromEvents(newestFirst: readonly OpenHandsEvent[]): string | undefined {
  for (const event of newestFirst) {
    if (event.source !== "agent") continue;
    if (event.kind === "ActionEvent" && event.tool_name === "finish") {
      const action = event.action as { kind?: string; message?: unknown } | null | undefined;
      return action?.kind === "FinishAction" && typeof action.message === "string" ? action.message : "";
    }
    if (event.kind === "MessageEvent") {
      const content = (event.llm_message as { content?: unknown } | undefined)?.content;
      if (!Array.isArray(content)) return "";
      return content
        .map((c: { type?: string; text?: unknown; image_urls?: unknown[] }) =>
          c?.type === "text"
            ? String(c.text ?? "")
            : `[Image: ${Array.isArray(c?.image_urls) ? c.image_urls.length : 0} URLs]`,
        )
        .join("");
    }
  }
  return undefined;
}

/** Rebuilds the execution status of a conversation whose sandbox no longer reports it. */
function lastExecutionStatusFromEvents(newestFirst: readonly OpenHandsEvent[]): string | undefined {
  for (const event of newestFirst) {
    if (event.kind !== "ConversationStateUpdateEvent") continue;
    if (event.key === "execution_status" && typeof event.value === "string") return event.value;
    const value = event.value as { execution_status?: unknown } | null | undefined;
    if (event.key === "full_state" && typeof value?.execution_status === "string") return value.execution_status;
  }
  return undefined;
}

/** Asks the running agent-server first, then falls back to the persisted events. */
export async function readFinalResponse(client: OpenHandsClient, conversation: AppConversation): Promise<string> {
  if (conversation.sandbox_status === "RUNNING" && conversation.conversation_url && conversation.session_api_key) {
    try {
      const response = await client.agentFinalResponse(conversation);
      if (response.trim()) return response;
    } catch {
      // The agent-server is best effort; the events below are the record.
    }
  }
  // The newest few finish actions' and messages' kinds, merged newest first: the service's rule
  // over the two kinds it looks at, in two small reads.
  const [actions, messages] = await Promise.all([
    client.searchEvents(conversation.id, { kind: "ActionEvent", newestFirst: true, limit: NEWEST }),
    client.searchEvents(conversation.id, { kind: "MessageEvent", newestFirst: true, limit: NEWEST }),
  ]);
  const newestFirst = [...actions.items, ...messages.items].sort((a, b) =>
    String(b.timestamp ?? "").localeCompare(String(a.timestamp ?? "")),
  );
  return finalResponseFromEvents(newestFirst) ?? "";
}

export async function readLastError(client: OpenHandsClient, conversationId: string): Promise<string | undefined> {
  const events = await client.searchEvents(conversationId, {
    kind: "ConversationErrorEvent",
    newestFirst: true,
    limit: 1,
  });
  const error = events.items[0];
  if (!error) return undefined;
  const detail = typeof error.detail === "string" ? error.detail : undefined;
  const code = typeof error.code === "string" ? error.code : undefined;
  return [code, detail].filter(Boolean).join(": ") || undefined;
}

export async function readLastExecutionStatus(
  client: OpenHandsClient,
  conversationId: string,
): Promise<string | undefined> {
  const events = await client.searchEvents(conversationId, {
    kind: "ConversationStateUpdateEvent",
    newestFirst: true,
    limit: NEWEST_STATE_UPDATES,
  });
  return lastExecutionStatusFromEvents(events.items);
}
