/** The words that ask this App for work: a mention in a comment, a label on an issue or PR. */
export interface TriggerWords {
  mention: string;
  label: string;
}

/** A GitHub login after an `@`: what GitHub itself would link as a mention. */
const MENTION_FORMAT = /^@[A-Za-z0-9][A-Za-z0-9-]{0,38}$/;
/** GitHub refuses longer label names. */
const MAX_LABEL_CHARS = 50;

export function isMentionFormat(value: unknown): value is string {
  return typeof value === "string" && MENTION_FORMAT.test(value);
}

export function isLabelName(value: unknown): value is string {
  return typeof value === "string" && value.trim().length > 0 && value.length <= MAX_LABEL_CHARS;
}

/**
 * The deployment's words: `MENTION` and `LABEL` when the operator set them,
 * else the App's own slug (`@<slug>`, label `<slug>`), which no other App on
 * GitHub has, so no other bot answers it. Undefined while a word depends on a
 * slug not learnt yet.
 */
export function deploymentWords(
  explicit: { mention?: string; label?: string },
  slug: string | undefined,
): TriggerWords | undefined {
  const mention = explicit.mention ?? (slug === undefined ? undefined : `@${slug}`);
  const label = explicit.label ?? slug;
  return mention === undefined || label === undefined ? undefined : { mention, label };
}
