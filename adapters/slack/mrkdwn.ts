/**
 * Markdown → Slack mrkdwn. Models answer in CommonMark-ish markdown; Slack renders its own dialect
 * (`*bold*`, `_italic_`, `~strike~`, `<url|text>`) and treats `&`, `<` and `>` as control
 * characters, so an unconverted reply shows stray `**` and can even form a `<!channel>` mention.
 * The walk over the markdown is shared (the adapter kit's renderMarkdown); these are Slack's rules.
 * Code is escaped too: Slack reads `<!channel>` and `<url|label>` inside backticks as well (and
 * shows `&lt;` there as `<`), so a code span a user asks the model to echo could ping a channel.
 */
import { renderMarkdown, type MarkdownRenderer } from 'parley/adapter-kit';
import { fenceTables } from './tables.js';

const mrkdwn: MarkdownRenderer = {
  marks: { bold: '*', italic: '_', strike: '~' },
  rule: '———', // Slack has no horizontal rule
  text: escapeText,
  code: escapeText,
  codeLine: escapeText,
  // `[label](url)` / `![alt](url)` → `<url|label>`; a relative link Slack cannot open keeps its label.
  link(url, label, inline) {
    const text = label === '' ? '' : inline(label);
    if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) return text || escapeText(url);
    return text === '' ? `<${slackUrl(url)}>` : `<${slackUrl(url)}|${text}>`;
  },
  autolink: (url) => `<${slackUrl(url)}>`,
  email: (address) => `<mailto:${slackUrl(address)}|${escapeText(address)}>`,
  url: escapeText,
  // Slack ignores a language tag (it would show as the first line of code) and knows only ```.
  fence: (indent) => `${indent}\`\`\``,
  heading: (title) => `*${title}*`,
  quote: (marker, line) => marker + line,
  bullet: (indent, item) => `${indent}• ${item}`,
};

/** Convert a markdown reply to Slack mrkdwn; code spans and code blocks keep their markup, their `&`, `<` and `>` escaped. */
export function markdownToMrkdwn(markdown: string): string {
  // Slack has no tables: set in a code block, their columns line up (tables.ts).
  const text = renderMarkdown(fenceTables(markdown), mrkdwn);
  // Markdown that shows nothing (a bare `#`) would post nothing, the user left with silence: it is shown as written.
  return /\S/.test(text) || markdown.trim() === '' ? text : escapeText(markdown.trim());
}

/** A URL inside `<…>`: entities for `&`, and no character that would end the link early. */
function slackUrl(url: string): string {
  return url.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\|/g, '%7C');
}

/** The three characters Slack reserves for its own markup. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
