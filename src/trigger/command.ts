/** Words that, alone after the mention, are commands to the App rather than work for the agent. */
export const COMMANDS = ["stop", "status", "help"] as const;
export type Command = (typeof COMMANDS)[number];

/**
 * `@openhands stop` is a command; `@openhands stop the crash on start-up` is a
 * request that happens to begin with the same word.
 */
export function parseCommand(request: string): Command | undefined {
  const word = request
    .trim()
    .toLowerCase()
    .replace(/[.!?]+$/, "");
  return (COMMANDS as readonly string[]).includes(word) ? (word as Command) : undefined;
}
