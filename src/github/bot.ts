/**
 * Whether a GitHub account is a bot: `type` says so, and a `[bot]` suffix does
 * even when `type` is missing (logins cannot contain `[`). Case-insensitive, as
 * GitHub's logins are. The trigger (bots never start work) and the thread's
 * context for the prompt (bots' comments left out) ask the same question.
 */
export function isBot(account: { login: string; type?: string }): boolean {
  return account.type === "Bot" || /\[bot\]$/i.test(account.login);
}
