/** Text to match literally inside a RegExp built from it (a configured mention, a GitHub origin). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
