import { DEFAULT_MENTION } from "./mention";
import type { TriggerSettings } from "./request";

/** What triggers the App when a repository has no `.github/openhands.yml`. */
export const DEFAULT_TRIGGER_SETTINGS: TriggerSettings = { mention: DEFAULT_MENTION, label: "openhands", allowedBots: [] };
