import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { codeSpan } from "../markdown/code-spans";
import type { AutoReview, TriggerKind } from "../trigger/request";
import { isLabelName, isMentionFormat } from "../trigger/words";

/** Which triggers a repository may switch off, by the names its config file uses. */
const EVENT_NAMES = ["comment", "edited", "review_comment", "review", "opened", "label"] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** `.github/openhands.yml`: every field optional. */
export interface RepoConfig {
  /** Absent: the deployment's (`MENTION`, else the App's slug). */
  mention?: string;
  /** Absent: the deployment's (`LABEL`, else the App's slug). */
  label?: string;
  /** The label that asks for a review of a pull request. */
  reviewLabel: string;
  /** Added to review prompts only (`review.instructions`). */
  reviewInstructions: string;
  /** Reviews nobody asks for, each off unless the repository turns it on (`review.on_open`, `on_push`, `drafts`). */
  autoReview: AutoReview;
  events: EventName[];
  instructions: string;
  allowedBots: string[];
  branchPrefix: string;
  draftPr: boolean;
  /** A request on a thread whose conversation ended fewer days ago than this continues it; 0 never does. */
  continueDays: number;
}

/**
 * The App's defaults, for a repository without the file and for every field it leaves out. The one place they
 * are set; the mention and the label are the deployment's (trigger/words.ts).
 */
export const DEFAULT_REPO_CONFIG: RepoConfig = {
  events: [...EVENT_NAMES],
  reviewLabel: "openhands-review",
  reviewInstructions: "",
  autoReview: { onOpen: false, onPush: false, drafts: false },
  instructions: "",
  allowedBots: [],
  branchPrefix: "openhands/",
  draftPr: true,
  continueDays: 7,
};

export interface ParsedRepoConfig {
  config: RepoConfig;
  /** Why the file was ignored, for the tracking comment: "line 3: …". */
  problem?: string;
}

const MAX_INSTRUCTIONS = 4_000;
/** Longer than anyone returns to a thread expecting the agent to remember it. */
const MAX_CONTINUE_DAYS = 30;

/**
 * An invalid file is ignored as a whole, not field by field: a half-applied
 * config is harder to reason about than the defaults plus a clear message.
 */
export function parseRepoConfig(text: string): ParsedRepoConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = lines.linePos(syntax.pos[0]).line;
    return invalid(`line ${line}: ${quoted(syntax.message.split("\n")[0]!)}`);
  }
  if (doc.contents === null) return { config: DEFAULT_REPO_CONFIG };
  if (!isMap(doc.contents)) return invalid("line 1: the file must be a mapping of settings");
  const config = { ...DEFAULT_REPO_CONFIG };
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const at = isScalar(pair.key) && pair.key.range ? `line ${lines.linePos(pair.key.range[0]).line}: ` : "";
    const value =
      (pair.value as { toJSON?: () => unknown } | null)?.toJSON?.() ??
      (isScalar(pair.value) ? pair.value.value : pair.value);
    const problem = apply(config, key, value);
    if (problem) return invalid(at + problem);
  }
  return { config };
}

function apply(config: RepoConfig, key: string, value: unknown): string | undefined {
  switch (key) {
    case "mention":
      if (!isMentionFormat(value)) return "`mention` must look like @name";
      config.mention = value;
      return;
    case "label":
      if (!isLabelName(value)) return "`label` must be a label name";
      config.label = value.trim();
      return;
    case "review_label":
      if (!isLabelName(value)) return "`review_label` must be a label name";
      config.reviewLabel = value.trim();
      return;
    case "review":
      return applyReview(config, value);
    case "events":
      if (!Array.isArray(value) || !value.every((v) => (EVENT_NAMES as readonly unknown[]).includes(v))) {
        return `\`events\` must be a list of: ${EVENT_NAMES.join(", ")}`;
      }
      config.events = value as EventName[];
      return;
    case "instructions":
      if (typeof value !== "string") return "`instructions` must be text";
      config.instructions = value.slice(0, MAX_INSTRUCTIONS);
      return;
    case "allowed_bots":
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string"))
        return "`allowed_bots` must be a list of logins";
      config.allowedBots = value.map((v: string) => v.toLowerCase());
      return;
    case "branch_prefix":
      if (typeof value !== "string" || !/^[A-Za-z0-9._/-]{0,40}$/.test(value))
        return "`branch_prefix` must be a valid branch name prefix";
      config.branchPrefix = value;
      return;
    case "draft_pr":
      if (typeof value !== "boolean") return "`draft_pr` must be true or false";
      config.draftPr = value;
      return;
    case "continue_days":
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_CONTINUE_DAYS)
        return `\`continue_days\` must be a whole number of days from 0 to ${MAX_CONTINUE_DAYS}`;
      config.continueDays = value;
      return;
    default:
      return `unknown setting ${quoted(key)}`;
  }
}

/** `review:`, a mapping of its own: its switches, and the instructions for review prompts. */
const REVIEW_SWITCHES = { on_open: "onOpen", on_push: "onPush", drafts: "drafts" } as const;

function applyReview(config: RepoConfig, value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "`review` must be a mapping";
  const autoReview = { ...config.autoReview };
  for (const [key, setting] of Object.entries(value)) {
    if (key === "instructions") {
      if (typeof setting !== "string") return "`review.instructions` must be text";
      config.reviewInstructions = setting.slice(0, MAX_INSTRUCTIONS);
    } else if (Object.hasOwn(REVIEW_SWITCHES, key)) {
      if (typeof setting !== "boolean") return `\`review.${key}\` must be true or false`;
      autoReview[REVIEW_SWITCHES[key as keyof typeof REVIEW_SWITCHES]] = setting;
    } else {
      return `unknown setting ${quoted(`review.${key}`)}`;
    }
  }
  config.autoReview = autoReview;
  return undefined;
}

/**
 * Words from the file (a key, the parser's message, which may quote the file) as they are posted in the
 * tracking comment: one bounded line of code, which GitHub shows as it is.
 */
function quoted(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return codeSpan(line.length > 80 ? `${line.slice(0, 79)}…` : line);
}

function invalid(problem: string): ParsedRepoConfig {
  return { config: DEFAULT_REPO_CONFIG, problem };
}

/** The config's event name for a trigger. */
export function eventNameOf(kind: TriggerKind, edited: boolean): EventName | undefined {
  if (kind === "automatic") return undefined;
  return kind === "comment" && edited ? "edited" : kind;
}
