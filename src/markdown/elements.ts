/**
 * HTML elements with everything inside them: `<script>…</script>`, `<pre>…</pre>`. The opening
 * tag's `[^<>]*` stops at the next `<`, and an element never closed takes the rest of the text,
 * so a match costs linear time however the text is made.
 */
export function htmlElements(...names: string[]): RegExp {
  return new RegExp(String.raw`<(${names.join("|")})\b[^<>]*>[\s\S]*?(?:<\/\1\s*>|$)`, "gi");
}
