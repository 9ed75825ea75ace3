/**
 * The AI's markdown → the simple HTML Intercom shows in a reply: paragraphs, <b>, <i>, <a>, <code>,
 * <pre>, lists. Everything else is escaped, so a reply can never inject markup. Headings become
 * bold paragraphs and quotes plain ones (Intercom's messenger styles neither reliably).
 */

// Private-use characters stand in for pieces set aside during inline conversion; any in the
// input are dropped first so a reply cannot forge one.
const tokenOpen = '\uE001';
const tokenClose = '\uE002';
const tokenPattern = /\uE001(\d+)\uE002/g;
const privateUse = /[\uE000-\uE002]/g;

const openingFence = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const closingFence = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
const rulePattern = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const headingPattern = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?[ \t]*$/;
const quotePattern = /^ {0,3}>[ \t]?(.*)$/;
const itemPattern = /^([ \t]*)(?:([-*+])|(\d{1,9})[.)])[ \t]+(.*)$/;

interface OpenList {
  indent: number;
  tag: 'ul' | 'ol';
}

/** Convert a markdown reply to Intercom HTML. */
export function markdownToIntercomHtml(markdown: string): string {
  const html: string[] = [];
  const lists: OpenList[] = [];
  let paragraph: string[] = [];
  let code: { fence: string; lines: string[] } | undefined;

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
      const close = closingFence.exec(rawLine)?.[1];
      if (close !== undefined && close[0] === code.fence[0] && close.length >= code.fence.length) {
        html.push(`<pre><code>${escapeHtml(code.lines.join('\n'))}</code></pre>`);
        code = undefined;
      } else {
        code.lines.push(rawLine);
      }
      continue;
    }
    const line = rawLine.trimEnd();
    const fence = openingFence.exec(line);
    if (fence && !(fence[2]?.startsWith('`') && fence[3]?.includes('`'))) {
      endBlock();
      code = { fence: fence[2] as string, lines: [] };
      continue;
    }
    if (line.trim() === '') {
      flushParagraph(); // a list survives a blank line between its items
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
      html.push(inline(item[4] ?? ''));
      continue;
    }
    if (lists.length > 0 && /^[ \t]/.test(line)) {
      html.push(`<br>${inline(line.trim())}`); // a continuation line of the current item
      continue;
    }
    if (rulePattern.test(line)) {
      endBlock();
      continue;
    }
    const heading = headingPattern.exec(line);
    if (heading) {
      endBlock();
      const title = (heading[1] ?? '').replace(/(?:^|[ \t]+)#+$/, '').trim();
      if (title) html.push(`<p><b>${inline(title)}</b></p>`);
      continue;
    }
    closeLists();
    const quote = quotePattern.exec(line);
    paragraph.push(inline(quote ? (quote[1] ?? '') : line.trim()));
  }
  if (code) html.push(`<pre><code>${escapeHtml(code.lines.join('\n'))}</code></pre>`); // an unclosed fence runs to the end
  endBlock();
  return html.join('');
}

/**
 * Inline markdown → HTML. Code spans, escapes, links and URLs are set aside first; the rest is
 * escaped and its emphasis converted; then the set-aside pieces are put back.
 */
function inline(text: string): string {
  const tokens: string[] = [];
  const protect = (converted: string) => `${tokenOpen}${tokens.push(converted) - 1}${tokenClose}`;
  const rest = text
    .replace(/(?<!`)(`+)(?!`)(.*?[^`])\1(?!`)/g, (_, _ticks: string, body: string) => protect(`<code>${escapeHtml(body.trim() || body)}</code>`))
    .replace(/\\([!-/:-@[-`{-~])/g, (_, char: string) => protect(escapeHtml(char)))
    .replace(/(!?)\[([^\]]*)\]\(\s*(<[^<>]*>|(?:[^()\s]|\([^()\s]*\))+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g, (_, _image: string, label: string, target: string) =>
      protect(link(target.replace(/^<|>$/g, ''), label.trim())),
    )
    .replace(/<((?:https?|mailto):[^\s<>]*)>/gi, (_, url: string) => protect(anchor(url, escapeHtml(url.replace(/^mailto:/i, '')))))
    .replace(/\bhttps?:\/\/[^\s<>]+/gi, (url) => {
      const bare = trimUrl(url);
      return protect(anchor(bare, escapeHtml(bare))) + url.slice(bare.length);
    });
  return restore(emphasis(escapeHtml(rest)), tokens);
}

/** `***x***`, `**x**` / `__x__` → <b>; `*x*` / `_x_` → <i>. Runs after escaping, so markers are plain text. */
function emphasis(text: string): string {
  return text
    .replace(/\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*/g, '<b><i>$1</i></b>')
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, '<b>$1</b>')
    .replace(/(?<![\p{L}\p{N}_])__(?=\S)(.+?)(?<=\S)__(?![\p{L}\p{N}_])/gu, '<b>$1</b>')
    .replace(/\*(?=[^\s*])(.*?[^\s*])\*/g, '<i>$1</i>')
    .replace(/(?<![\p{L}\p{N}_])_(?=[^\s_])(.*?[^\s_])_(?![\p{L}\p{N}_])/gu, '<i>$1</i>');
}

/** `[label](url)`: a link only to a web or mail address; anything else keeps just its label. */
function link(url: string, label: string): string {
  const text = label === '' ? escapeHtml(url) : restoreless(label);
  return /^(?:https?|mailto):/i.test(url) ? anchor(url, text) : text;
}

/** A link label: formatted like any inline text, but links inside it are not linked again. */
function restoreless(label: string): string {
  return emphasis(escapeHtml(label));
}

function anchor(url: string, html: string): string {
  return `<a href="${escapeHtml(url)}">${html}</a>`;
}

/** A bare URL without the sentence punctuation (or unbalanced closing parenthesis) after it. */
function trimUrl(url: string): string {
  let end = url.length;
  let open = 0;
  let close = 0;
  for (const c of url) {
    if (c === '(') open++;
    else if (c === ')') close++;
  }
  for (;;) {
    const last = url[end - 1] ?? '';
    if (last === ')' && close > open) {
      close--;
      end--;
    } else if (/[.,;:!?'"*_~]/.test(last)) {
      end--;
    } else {
      return url.slice(0, end);
    }
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Put the set-aside pieces back; a link's label may itself hold some (a code span). */
function restore(text: string, tokens: readonly string[]): string {
  return text.replace(tokenPattern, (_, index: string) => restore(tokens[Number(index)] ?? '', tokens));
}
