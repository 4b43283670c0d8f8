/**
 * The parts of the OpenHands Cloud V1 API the Worker relies on. Only fields the
 * service always sends are required; everything else is optional, and unknown
 * fields are ignored: the set of fields differs from one deployment to the next.
 */
export type StartTaskStatus =
  | "WORKING"
  | "WAITING_FOR_SANDBOX"
  | "PREPARING_REPOSITORY"
  | "RUNNING_SETUP_SCRIPT"
  | "SETTING_UP_GIT_HOOKS"
  | "SETTING_UP_SKILLS"
  | "STARTING_CONVERSATION"
  | "READY"
  | "ERROR";

export interface StartTask {
  id: string;
  status: StartTaskStatus | (string & {});
  detail?: string | null;
  app_conversation_id?: string | null;
  sandbox_id?: string | null;
  created_at?: string;
  /** The start request echoed back; its `conversation_id` is dashed. */
  request?: { conversation_id?: string | null; secrets?: unknown } | null;
}

export type SandboxStatus = "STARTING" | "RUNNING" | "PAUSED" | "ERROR" | "MISSING";
export type ExecutionStatus =
  | "idle"
  | "running"
  | "paused"
  | "waiting_for_confirmation"
  | "finished"
  | "error"
  | "stuck"
  | "deleting";

export interface AppConversation {
  id: string;
  sandbox_id?: string | null;
  sandbox_status: SandboxStatus | (string & {});
  execution_status?: ExecutionStatus | (string & {}) | null;
  conversation_url?: string | null;
  session_api_key?: string | null;
  title?: string | null;
  /**
   * Not when the conversation was created: the service rewrites it each time the agent-server
   * reports the conversation (webhook_router.py on_conversation_update). The run's clock comes
   * from the start instead (`Task.startedAt`).
   */
  created_at?: string;
  /**
   * Pull request numbers: the start request's, then one per PR the agent opens through the service's own
   * `create_pr` tool, in whatever repository (mcp_router.py `save_pr_metadata`). A hint, checked on GitHub.
   */
  pr_number?: number[] | null;
  /** The model the conversation runs (`metrics.model_name` only ever says "default"). */
  llm_model?: string | null;
  /** What the run has cost so far; null when the service has none (yet). Read through `runMetrics`. */
  metrics?: unknown;
}

export interface TextContent {
  type: "text";
  text: string;
}

export interface StartConversationRequest {
  conversation_id: string;
  initial_message: { content: TextContent[] };
  /** Cloned with the key owner's git login (through OpenHands' own GitHub App); absent: an empty `git init` workspace. */
  selected_repository?: string;
  selected_branch?: string;
  git_provider?: "github";
  /** Merged over the key owner's secrets, a name given here winning; echoed back as "**********". */
  secrets?: Record<string, string>;
  /** Appended to the agent's system prompt. */
  system_message_suffix?: string;
  /** Metadata only; `openhands_api` is the value meant for API clients (`resolver` is the Cloud's own GitHub App). */
  trigger?: "openhands_api";
  pr_number?: number[];
}

export interface OpenHandsEvent {
  kind: string;
  id?: string;
  timestamp?: string;
  source?: string;
  [field: string]: unknown;
}

export interface Page<T> {
  items: T[];
  next_page_id: string | null;
}
