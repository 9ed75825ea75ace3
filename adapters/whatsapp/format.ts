/**
 * Markdown → WhatsApp formatting. Models answer in CommonMark-ish markdown; WhatsApp renders
 * its own marks (`*bold*`, `_italic_`, `~strike~`, ``` ```code``` ```, `` `code` ``, `> quote`,
 * `- `/`1. ` lists) and nothing else, so an unconverted reply shows stray `**`, `#` and `[…](…)`.
 * The walk over the markdown is shared (the adapter kit's renderMarkdown); these are WhatsApp's rules.
 */
import { renderMarkdown, type MarkdownRenderer } from 'parley/adapter-kit';

const whatsApp: MarkdownRenderer = {
  marks: { bold: '*', italic: '_', strike: '~' },
  rule: '———', // WhatsApp has no horizontal rule
  text: (text) => text, // nothing to escape
  code: (span) => span,
  // `[label](url)` → `label (url)`; just the URL when the label is empty or the URL itself.
  link(url, label, inline) {
    const text = label === '' ? '' : inline(label);
    return text === '' || label === url ? url : `${text} (${url})`;
  },
  autolink: (url) => (/^(?:https?|mailto|tel):/i.test(url) ? url : undefined),
  url: (url) => url,
  // WhatsApp knows only ``` and would show a language tag as the first line of code.
  fence: () => '```',
  heading: (title) => `*${title}*`,
  quote: (_marker, line) => `> ${line}`,
  bullet: (indent, item) => `${indent}• ${item}`,
};

/** Convert a markdown reply to WhatsApp formatting, leaving code spans and code blocks as they are. */
export function markdownToWhatsApp(markdown: string): string {
  const text = renderMarkdown(markdown, whatsApp);
  // Markdown that shows nothing (a bare `#`) would send nothing, the user left with silence: it is sent as written.
  return /\S/.test(text) || markdown.trim() === '' ? text : markdown.trim();
}
