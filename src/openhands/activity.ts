import { isObject } from "../is-object";
import type { OpenHandsClient } from "./client";
import type { OpenHandsEvent } from "./types";

/** What the agent is doing now, from its latest action: the model's own words, and the command or file. */
export interface AgentActivity {
  /** The action's `summary` (about ten words, written by the model), when it wrote one. */
  summary?: string;
  /** The terminal command, or the file the editor works on (with what it does to it). */
  detail?: string;
}

const EDITOR_VERBS: Record<string, string> = {
  view: "reading",
  create: "creating",
  str_replace: "editing",
  insert: "editing",
  undo_edit: "undoing an edit to",
};

/**
 * The newest stored action of the agent (`kind__eq=ActionEvent`, newest first, one
 * item: EventServiceBase.search_events). The app server only has what the
 * agent-server has pushed, in batches, so this may lag the agent by a few seconds.
 */
export async function readAgentActivity(
  client: OpenHandsClient,
  conversationId: string,
  repo: string,
): Promise<AgentActivity | undefined> {
  const events = await client.searchEvents(conversationId, { kind: "ActionEvent", newestFirst: true, limit: 1 });
  const latest = events.items[0];
  return latest ? activityOf(latest, repo) : undefined;
}

/**
 * A path as a reader of the repository knows it. OpenHands clones into
 * `<working dir>/<repository name>` (git_app_conversation_service.py:
 * `dir_name = selected_repository.split('/')[-1]`, the working dir being
 * /workspace/project), and so does `git clone` for the agent working as the App.
 */
function repositoryPath(path: string, repo: string | undefined): string {
  const inWorkspace = path.replace(/^\/workspace\/[^/]+\//, "");
  if (repo && inWorkspace.toLowerCase().startsWith(`${repo.toLowerCase()}/`)) return inWorkspace.slice(repo.length + 1);
  return inWorkspace;
}

/**
 * The SDK's ActionEvent: `summary` is null on old events and for calls that were
 * not executable, and falls back to "<tool_name>: <arguments as JSON>" when the
 * model gave none, which says nothing a reader wants; `action.kind` names the tool's
 * action (TerminalAction `command`; FileEditorAction `command` and `path`).
 */
export function activityOf(event: OpenHandsEvent, repo?: string): AgentActivity | undefined {
  const tool = typeof event.tool_name === "string" ? event.tool_name : "";
  const raw = typeof event.summary === "string" ? event.summary.trim() : "";
  const summary = raw && !raw.startsWith(`${tool}: {`) ? raw : undefined;
  const action = isObject(event.action) ? event.action : undefined;
  let detail: string | undefined;
  if (action?.kind === "TerminalAction" && typeof action.command === "string" && action.command.trim()) {
    detail = `$ ${action.command.trim().split("\n")[0]}`;
  } else if (action?.kind === "FileEditorAction" && typeof action.path === "string") {
    const verb = EDITOR_VERBS[String(action.command)] ?? "working on";
    detail = `${verb} ${repositoryPath(action.path, repo)}`;
  } else if (action?.kind === "FinishAction") {
    detail = "finishing";
  }
  if (!summary && !detail) return tool ? { detail: `using ${tool}` } : undefined;
  return { summary, detail };
}
