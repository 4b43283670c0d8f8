/**
 * One JSON line per event, so Workers Logs can filter on fields. Callers pass
 * identifiers and reasons only; upstream error text goes through `redact` first.
 */
export function log(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** An error as a log field: its class name, never its message (which may quote what an upstream was sent). */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "unknown";
}

const TOKEN_PATTERNS = [
  /gh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub tokens, installation tokens included
  /github_pat_[A-Za-z0-9_]{20,}/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(Bearer|token)\s+[A-Za-z0-9._~+/=-]{12,}/gi,
  /\bsk-[A-Za-z0-9_-]{16,}/g,
];

/**
 * Upstream messages may echo what we sent them; scrub known secret values and
 * anything shaped like a credential before the text reaches a log or a comment.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 6) out = out.split(secret).join("[redacted]");
  }
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, "[redacted]");
  return out;
}
