import { DEFAULT_REPO_CONFIG } from "../repo-config/parse";
import type { TriggerSettings } from "./request";

/** What triggers the App when a repository has no `.github/openhands.yml`: the config file's own defaults. */
export const DEFAULT_TRIGGER_SETTINGS: TriggerSettings = {
  mention: DEFAULT_REPO_CONFIG.mention,
  label: DEFAULT_REPO_CONFIG.label,
  allowedBots: DEFAULT_REPO_CONFIG.allowedBots,
};
