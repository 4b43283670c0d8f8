import { type Node, Parser } from "commonmark";

/**
 * What a reader sees of a comment, from the CommonMark reference parser (GitHub's
 * renderer is cmark-gfm, which follows it): the parts the App's defusing must
 * never let the agent's text make. GFM's autolinks and GitHub's mentions are made
 * from text after parsing, so a text node outside code that holds a mention, a URL,
 * `www.` or an e-mail address counts as a live one.
 */
export interface Rendered {
  /** Raw HTML, inline or as a block. */
  html: string[];
  /** Link and image destinations. */
  links: string[];
  /** Text outside code that GitHub would turn into a mention or a link. */
  live: string[];
  headings: string[];
  /** The text of every top-level block that is not a quote: the lines that speak as the App. */
  unquoted: string[];
}

const LIVE = /(?<![\w@./-])@[A-Za-z0-9]|[a-z][\w+.-]*:\/\/|www\.|[\w.+-]@[\w-]+\.\w|[\w.-]\/[\w.-]+#\d/i;

function textOf(node: Node): string {
  let text = "";
  const walker = node.walker();
  for (let step = walker.next(); step; step = walker.next()) {
    if (step.entering && step.node.literal !== null) text += step.node.literal;
  }
  return text;
}

export function rendered(markdown: string): Rendered {
  const document = new Parser().parse(markdown);
  const out: Rendered = { html: [], links: [], live: [], headings: [], unquoted: [] };
  for (let block = document.firstChild; block; block = block.next) {
    if (block.type !== "block_quote") out.unquoted.push(textOf(block));
  }
  const walker = document.walker();
  for (let step = walker.next(); step; step = walker.next()) {
    const { node, entering } = step;
    if (!entering) continue;
    if (node.type === "html_inline" || node.type === "html_block") out.html.push(node.literal ?? "");
    if (node.type === "link" || node.type === "image") out.links.push(node.destination ?? "");
    if (node.type === "heading") out.headings.push(textOf(node));
    // An entity is a text node of its own (`&#64;` then `victim`): GitHub reads the joined text.
    if (node.type === "text" && node.prev?.type !== "text") {
      let text = "";
      for (let sibling: Node | null = node; sibling?.type === "text"; sibling = sibling.next) text += sibling.literal;
      if (LIVE.test(text)) out.live.push(text);
    }
  }
  return out;
}
