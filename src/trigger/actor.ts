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
