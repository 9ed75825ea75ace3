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

/**
 * Slack shows `*bold*` only with a space or ASCII punctuation outside each mark: `これは*重要*です`
 * (Chinese and Japanese put no space between words) or `foo*bar*baz` shows its asterisks. So the
 * marks are placeholders first, and each becomes its mark with a zero-width space outside it where
 * a letter or the like touches it (slackMarks).
 */
const MARKS: Record<string, string> = { '\uE010': '*', '\uE011': '_', '\uE012': '~' };
const MARK_PLACEHOLDERS = /[\uE010-\uE012]/g;
const ZERO_WIDTH_SPACE = '\u200B';

const mrkdwn: MarkdownRenderer = {
  marks: { bold: '\uE010', italic: '\uE011', strike: '\uE012' },
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
  // The placeholders are private-use characters: a model's text must not forge them.
  const text = slackMarks(renderMarkdown(fenceTables(markdown.replace(MARK_PLACEHOLDERS, '')), mrkdwn));
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

/** A character Slack takes as the edge of a mark: none, a space, ASCII punctuation, or another mark. */
const isEdge = (char: string | undefined) => char === undefined || /[\s!-/:-@[-`{-~\uE010-\uE012]/.test(char);

/**
 * The mark placeholders as Slack's marks. Emphasis comes in pairs on a line (the first of a kind
 * opens, the next closes it); a zero-width space goes before an opener, or after a closer, that
 * something other than an edge touches on the outside.
 */
function slackMarks(text: string): string {
  if (!/[\uE010-\uE012]/.test(text)) return text;
  let out = '';
  let open = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    const mark = MARKS[char];
    if (char === '\n') open = new Set();
    if (mark === undefined) {
      out += char;
    } else if (open.delete(char)) {
      out += isEdge(text[i + 1]) ? mark : mark + ZERO_WIDTH_SPACE;
    } else {
      open.add(char);
      out += isEdge(text[i - 1]) ? mark : ZERO_WIDTH_SPACE + mark;
    }
  }
  return out;
}
