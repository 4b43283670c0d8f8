/**
 * OpenHands' own GitHub App. OpenHands Cloud clones and pushes through it (the
 * agent's git login is a user token of that App), so it is installed wherever
 * this App's agent works, and it answers on its own: it starts a conversation
 * of its own for `@openhands` in a new comment and for the label `openhands` on
 * an issue, under the commenter's OpenHands account. It cannot be switched off
 * per repository. So this App's words must not be those, unless the operator
 * chooses them, and nothing this App posts may contain what sets that App off.
 *
 * From the service's source (OpenHands/OpenHands, enterprise/integrations/utils.py
 * `has_exact_mention` and `get_oh_labels`, github/github_view.py): the text is
 * lower-cased, then searched for `(?:^|[^\w@])@openhands(?![\w-])` (Python's `\w`
 * is Unicode: letters, digits, underscore); the label is compared exactly.
 * Backticks, quotes and HTML comments do not stop it: the raw body is searched.
 */
export const OPENHANDS_APP_MENTION = "@openhands";
export const OPENHANDS_APP_LABEL = "openhands";

/**
 * `openhands` spelt case-insensitively in ASCII only: no other character
 * lower-cases to one of its letters in Python, while JavaScript's Unicode case
 * folding would also take `ſ` for `s`.
 */
const NAME = "[oO][pP][eE][nN][hH][aA][nN][dD][sS]";
const WORD = String.raw`\p{L}\p{N}_`;
const SETS_OFF = new RegExp(`(^|[^${WORD}@])@(${NAME})(?![${WORD}-])`, "gu");

/**
 * Invisible, and not a word character, so `@⁠openhands` no longer reads as a
 * mention to OpenHands' App nor to GitHub, while people still read the name.
 */
const WORD_JOINER = "\u2060";

/** The text with every `@openhands` that App would answer broken by a word joiner. */
export function defuseOpenHandsMention(text: string): string {
  return text.replace(SETS_OFF, `$1@${WORD_JOINER}$2`);
}

/** Whether a mention this App answers is one OpenHands' App answers too (so both would start). */
export function mentionCollides(mention: string): boolean {
  return mention.toLowerCase() === OPENHANDS_APP_MENTION;
}

/** Whether a label this App answers (compared case-insensitively) is the one OpenHands' App answers. */
export function labelCollides(label: string): boolean {
  return label.toLowerCase() === OPENHANDS_APP_LABEL;
}

/**
 * What the operator is told (`/healthz`, the setup page) when the words they
 * chose are also OpenHands' App's: both Apps start an agent on one request.
 */
export function collisionWarnings(words: { mention?: string; label?: string }, agentAsApp = false): string[] {
  const where = agentAsApp
    ? "wherever it is installed (GIT_IDENTITY=app does not need it)"
    : "(installed for the agent's git access)";
  const effect = `OpenHands' own GitHub App ${where} answers it too: a requester with an OpenHands account gets two agents, two sets of pull requests and two bills, and one without gets its sign-up reply`;
  const warnings: string[] = [];
  if (words.mention !== undefined && mentionCollides(words.mention))
    warnings.push(`the mention ${words.mention}: ${effect}. Leave MENTION empty for @<the App's slug>.`);
  if (words.label !== undefined && labelCollides(words.label))
    warnings.push(`the label "${words.label}": ${effect}. Leave LABEL empty for the App's slug.`);
  return warnings;
}
