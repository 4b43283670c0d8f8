/**
 * The hidden marker on everything the App writes on GitHub. The trigger treats
 * text carrying it as the App's own (never a request, whoever posts it), and
 * the report finds its earlier comments by it. One definition, so the two can
 * never drift apart and let the App answer itself.
 */
export const OWN_MARKER = "<!-- openhands-github-app";

/** On a tracking comment: lets a retry find the comment it already posted. */
export function taskMarker(taskId: string): string {
  return `${OWN_MARKER} task:${taskId} -->`;
}

/** On the "not allowed" reply: it is posted once a day per person and thread. */
export function notAllowedMarker(login: string): string {
  return `${OWN_MARKER} not-allowed:${login.toLowerCase()} -->`;
}
