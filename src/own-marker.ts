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

/**
 * On a review the App posted for a task: lets a retry find it instead of posting a second, and
 * say what it held (its inline comments, and those in its body).
 */
export function reviewMarker(taskId: string, counts: { inline: number; folded: number }): string {
  return `${OWN_MARKER} review:${taskId} inline:${counts.inline} folded:${counts.folded} -->`;
}

/** Whether a review's body carries the marker of a review the App posted, for any task. */
export function isOwnReview(body: string): boolean {
  return new RegExp(`${OWN_MARKER} review:[0-9a-f]{32} inline:\\d+ folded:\\d+ -->`).test(body);
}

/** What a review's marker says it held. */
export function reviewCounts(body: string, taskId: string): { inline: number; folded: number } | undefined {
  const match = new RegExp(`${OWN_MARKER} review:${taskId} inline:(\\d+) folded:(\\d+) -->`).exec(body);
  return match ? { inline: Number(match[1]), folded: Number(match[2]) } : undefined;
}
