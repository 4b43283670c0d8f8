interface Sender {
  login: string;
  type?: string;
}

/**
 * Bots never trigger work: above all the App itself, whose own comments would
 * otherwise start a loop. Logins cannot contain `[`, so a `[bot]` suffix is a
 * reliable signal even when `type` is missing.
 */
export function isBot(sender: Sender): boolean {
  return sender.type === "Bot" || /\[bot\]$/i.test(sender.login);
}

/** A bot the repository has not allowed in `.github/openhands.yml` (logins compared case-insensitively). */
export function isDisallowedBot(sender: Sender, allowedBots: readonly string[]): boolean {
  return isBot(sender) && !allowedBots.includes(sender.login.toLowerCase());
}
