import { isObject } from "../is-object";
import type { AppConversation } from "./types";

/** What a run cost, as far as the service says: each figure only when it is really there. */
export interface RunMetrics {
  /** In US dollars, as the service accounts it (`accumulated_cost`). */
  costUsd?: number;
  /** Prompt and completion tokens together. */
  tokens?: number;
  model?: string;
}

const finite = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;

const since = (total: number | undefined, before: number | undefined): number | undefined =>
  total === undefined || before === undefined ? total : Math.max(0, total - before);

/**
 * The conversation's `metrics` (the SDK's MetricsSnapshot, rebuilt by the app server
 * from its database: SQLAppConversationInfoService._to_info), read defensively. The
 * service fills it with zeros before the agent's first model call; the API
 * description allows null. Either way nothing is said: never a zero that means
 * "not counted yet". The model is the conversation's `llm_model`, since the
 * snapshot's `model_name` is always "default".
 */
export function runMetrics(
  conversation: Pick<AppConversation, "metrics" | "llm_model"> | null | undefined,
  before?: Pick<RunMetrics, "costUsd" | "tokens">,
): RunMetrics | undefined {
  const metrics = conversation?.metrics;
  if (!isObject(metrics)) return undefined;
  const usage = isObject(metrics.accumulated_token_usage) ? metrics.accumulated_token_usage : undefined;
  const prompt = finite(usage?.prompt_tokens);
  const completion = finite(usage?.completion_tokens);
  // A conversation that went on counts from its start: what this request spent is what came after `before`.
  const costUsd = since(finite(metrics.accumulated_cost), before?.costUsd);
  const tokens = since(
    prompt === undefined && completion === undefined ? undefined : (prompt ?? 0) + (completion ?? 0),
    before?.tokens,
  );
  if (!costUsd && !tokens) return undefined;
  const named = [conversation?.llm_model, metrics.model_name].find(
    (name): name is string => typeof name === "string" && name.trim() !== "" && name !== "default",
  );
  return { costUsd, tokens, model: named?.trim() };
}
