/**
 * The AI's markdown → the simple HTML Intercom shows in a reply: paragraphs, <b>, <i>, <a>, <code>,
 * <pre>, lists. Everything else is escaped, so a reply can never inject markup. Headings become
 * bold paragraphs and quotes plain ones (Intercom's messenger styles neither reliably).
 *
 * The inline conversion and the block patterns are shared (the adapter kit's); the block
 * structure (paragraphs, nested lists, code collected into <pre>) is Intercom's own.
 */
import { closingFence, headingTitle, isRule, openingFence, renderInline, replaceSpans, type Fence, type InlineRenderer } from 'parley/adapter-kit';

// The shared inline conversion uses private-use characters as placeholders for the pieces it
// sets aside; any in the input are dropped first so a reply cannot forge one.
const privateUse = /[\uE000-\uE002]/g;

const quotePattern = /^ {0,3}>[ \t]?(.*)$/;
// `(?=([ \t]+))\4`: the blanks taken at once (a failed match retried every shorter run of them).
const itemPattern = /^([ \t]*)(?:([-*+])|(\d{1,9})[.)])(?=([ \t]+))\4(.*)$/;

interface OpenList {
  indent: number;
  tag: 'ul' | 'ol';
}

/** Convert a markdown reply to Intercom HTML. */
export function markdownToIntercomHtml(markdown: string): string {
  const html: string[] = [];
  const lists: OpenList[] = [];
  let paragraph: string[] = [];
  let code: { fence: Fence; lines: string[] } | undefined; // the opening fence, the code so far

  const flushParagraph = () => {
    if (paragraph.length > 0) html.push(`<p>${paragraph.join('<br>')}</p>`);
    paragraph = [];
  };
  const closeLists = (toIndent = -1) => {
    while (lists.length > 0 && (lists.at(-1) as OpenList).indent > toIndent) html.push(`</li></${(lists.pop() as OpenList).tag}>`);
  };
  const endBlock = () => {
    flushParagraph();
    closeLists();
  };

  for (const rawLine of markdown.replace(privateUse, '').replace(/\r\n?/g, '\n').split('\n')) {
    if (code) {
      if (closingFence(rawLine, code.fence.marker, code.fence.indent) !== undefined) {
        html.push(`<pre><code>${escapeHtml(code.lines.join('\n'))}</code></pre>`);
        code = undefined;
      } else {
        code.lines.push(unindent(rawLine, code.fence.indent.length));
      }
      continue;
    }
    const line = rawLine.trimEnd();
    const fence = openingFence(line);
    if (fence) {
      endBlock();
      code = { fence, lines: [] };
      continue;
    }
    if (line.trim() === '') {
      flushParagraph(); // a list survives a blank line between its items
      continue;
    }
    if (isRule(line)) {
      endBlock(); // before items: `- - -` and `* * *` are rules, not items
      continue;
    }
    const item = itemPattern.exec(line);
    if (item) {
      flushParagraph();
      const indent = (item[1] ?? '').replace(/\t/g, '    ').length;
      const tag = item[2] ? 'ul' : 'ol';
      closeLists(indent);
      const top = lists.at(-1);
      if (top && top.indent === indent && top.tag === tag) {
        html.push('</li><li>');
      } else {
        if (top && top.indent === indent) closeLists(indent - 1); // same level, other kind: a new list
        const start = tag === 'ol' && item[3] !== '1' ? ` start="${Number(item[3])}"` : '';
        html.push(`<${tag}${start}><li>`);
        lists.push({ indent, tag });
      }
      html.push(inline(item[5] ?? ''));
      continue;
    }
    if (lists.length > 0 && /^[ \t]/.test(line)) {
      html.push(`<br>${inline(line.trim())}`); // a continuation line of the current item
      continue;
    }
    const title = headingTitle(line);
    if (title !== undefined) {
      endBlock();
      if (title) html.push(`<p><b>${inline(title)}</b></p>`);
      continue;
    }
    closeLists();
    const quote = quotePattern.exec(line);
    paragraph.push(inline(quote ? (quote[1] ?? '') : line.trim()));
  }
  if (code) html.push(`<pre><code>${escapeHtml(code.lines.join('\n'))}</code></pre>`); // an unclosed fence runs to the end
  endBlock();
  const body = html.join('');
  // Markdown that shows nothing (a rule, a bare `#`, an empty quote or code block) would be posted as
  // an empty reply (Slack and WhatsApp never post an empty part): it is shown as written instead.
  return /\S/.test(body.replace(/<[^>]*>/g, '')) || markdown.trim() === '' ? body : `<p>${escapeHtml(markdown.trim())}</p>`;
}

/** Inline markdown → HTML: <code>, <a>, <b>, <i>; everything else escaped. */
const inlineHtml: InlineRenderer = {
  text: escapeHtml,
  emphasis,
  code: (_span, content) => `<code>${escapeHtml(content.trim() || content)}</code>`,
  // `[label](url)`: a link only to a web or mail address; anything else keeps just its label.
  // The label is formatted like any inline text, but links inside it are not linked again.
  link(url, label) {
    const text = label === '' ? escapeHtml(url) : emphasis(escapeHtml(label));
    return /^(?:https?|mailto):/i.test(url) ? anchor(url, text) : text;
  },
  autolink: (url) => (/^(?:https?|mailto):/i.test(url) ? anchor(url, escapeHtml(url.replace(/^mailto:/i, ''))) : undefined),
  url: (url) => anchor(url, escapeHtml(url)),
  bareUrls: /\bhttps?:\/\/[^\s<>]+/gi,
};

function inline(text: string): string {
  return renderInline(text, inlineHtml);
}

/**
 * A letter or digit of a script that spaces its words. `*` next to one is inside a word: `2*3*4` and
 * `x*y + y*z` are arithmetic, and would lose their `*` to italics. Chinese, Japanese and Thai put no
 * space between words, so `これは*注意*して` is italics.
 */
const wordChar = String.raw`(?:(?![\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}])[\p{L}\p{N}])`;
const italicPattern = new RegExp(String.raw`(?<!${wordChar})\*(?=[^\s*])(.*?[^\s*])\*(?!${wordChar})`, 'gu');
const italicCloser = new RegExp(String.raw`(?<=[^\s*])\*(?!${wordChar})`, 'gu');

/**
 * `***x***`, `**x**` / `__x__` → <b>; `*x*` / `_x_` → <i>. Runs after escaping, so markers are plain
 * text. Each span with the closers it can end at, so an opener without one costs no rescan (replaceSpans).
 */
function emphasis(text: string): string {
  // An opener ends its run of `*` before a letter, a closer starts its run after one: `*****` or
  // `****1234` is written as it is (tags split across runs would also nest wrongly: `<b><i></b></i>`).
  let html = replaceSpans(text, /\*\*\*(?=[^\s*])(.+?)(?<=[^\s*])\*\*\*/g, /(?<=[^\s*])\*\*\*/g, (_, x) => `<b><i>${x}</i></b>`);
  html = replaceSpans(html, /\*\*(?=[^\s*])(.+?)(?<=[^\s*])\*\*/g, /(?<=[^\s*])\*\*/g, (_, x) => `<b>${x}</b>`);
  html = replaceSpans(
    html,
    /(?<![\p{L}\p{N}_])__(?=\S)(.+?)(?<=\S)__(?![\p{L}\p{N}_])/gu,
    /(?<=\S)__(?![\p{L}\p{N}_])/gu,
    (_, x) => `<b>${x}</b>`,
  );
  html = replaceSpans(html, italicPattern, italicCloser, (_, x) => `<i>${x}</i>`);
  return replaceSpans(
    html,
    /(?<![\p{L}\p{N}_])_(?=[^\s_])(.*?[^\s_])_(?![\p{L}\p{N}_])/gu,
    /(?<=[^\s_])_(?![\p{L}\p{N}_])/gu,
    (_, x) => `<i>${x}</i>`,
  );
}

/** A code line without the spaces (up to `depth` of them) its fence was indented by (a list item's code block). */
function unindent(line: string, depth: number): string {
  let start = 0;
  while (start < depth && line[start] === ' ') start++;
  return line.slice(start);
}

function anchor(url: string, html: string): string {
  return `<a href="${escapeHtml(url)}">${html}</a>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
