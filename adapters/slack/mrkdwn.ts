/**
 * Markdown → Slack mrkdwn. Models answer in CommonMark-ish markdown; Slack renders its own dialect
 * (`*bold*`, `_italic_`, `~strike~`, `<url|text>`) and treats `&`, `<` and `>` as control
 * characters, so an unconverted reply shows stray `**` and can even form a `<!channel>` mention.
 * Conversion is line by line (Slack's own formatting does not span lines either); code is copied
 * as it is.
 */

/** What a markdown horizontal rule becomes: Slack has none. */
const horizontalRule = '———';

// Private-use characters stand in for what must survive the later passes untouched: a bold
// marker (so the italic pass does not take Slack's `*bold*` for italics) and protected spans.
const boldMarker = '\uE000';
const tokenOpen = '\uE001';
const tokenClose = '\uE002';
const tokenPattern = /\uE001(\d+)\uE002/g;

const openingFence = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const closingFence = /^( {0,3})(`{3,}|~{3,})[ \t]*$/;
const rulePattern = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const headingPattern = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?[ \t]*$/;
const quotePattern = /^( {0,3}>[ \t]?)(.*)$/;
const bulletPattern = /^([ \t]*)[-*+][ \t]+(.*)$/;

/** Convert a markdown reply to Slack mrkdwn, leaving code spans and code blocks as they are. */
export function markdownToMrkdwn(markdown: string): string {
  const output: string[] = [];
  let fence: string | undefined; // the opening fence's marker while inside a code block
  for (const rawLine of markdown.split('\n')) {
    const carriageReturn = rawLine.endsWith('\r') ? '\r' : '';
    const line = carriageReturn ? rawLine.slice(0, -1) : rawLine;
    let converted: string;
    if (fence !== undefined) {
      const close = closingFence.exec(line);
      if (close && close[2]?.[0] === fence[0] && (close[2]?.length ?? 0) >= fence.length) {
        converted = `${close[1] ?? ''}\`\`\``;
        fence = undefined;
      } else {
        converted = line;
      }
    } else {
      const open = openingFence.exec(line);
      const [, indent = '', marker = '', info = ''] = open ?? [];
      if (open && !(marker.startsWith('`') && info.includes('`'))) {
        // Slack ignores a language tag (it would show as the first line of code) and knows only ```.
        converted = `${indent}\`\`\``;
        fence = marker;
      } else {
        converted = convertLine(line);
      }
    }
    output.push(converted + carriageReturn);
  }
  return output.join('\n');
}

/** One line outside code: block syntax (rule, heading, quote, bullet) first, then inline. */
function convertLine(line: string): string {
  if (line.trim() === '') return line;
  if (rulePattern.test(line)) return horizontalRule;

  const heading = headingPattern.exec(line);
  if (heading) {
    const title = (heading[1] ?? '').replace(/(?:^|[ \t]+)#+$/, '').trim();
    // The whole heading becomes bold, so bold inside it is dropped rather than nested.
    return title === '' ? '' : `*${convertInline(title, '')}*`;
  }

  const quote = quotePattern.exec(line);
  if (quote) return (quote[1] ?? '') + convertLine(quote[2] ?? '');

  const bullet = bulletPattern.exec(line);
  if (bullet) return `${bullet[1] ?? ''}• ${convertInline(bullet[2] ?? '', '*')}`;

  // Numbered lists ("1. item") need nothing: Slack shows them as written.
  return convertInline(line, '*');
}

/**
 * Inline markdown → mrkdwn. Code spans, escapes, links and URLs are set aside first, the rest is
 * escaped and its emphasis converted, then the set-aside pieces are put back.
 */
function convertInline(text: string, bold: string): string {
  const tokens: string[] = [];
  return restore(setAsideAndFormat(text, bold, tokens), tokens);
}

/** `convertInline` with the set-aside pieces still as placeholders into `tokens` (shared with links). */
function setAsideAndFormat(text: string, bold: string, tokens: string[]): string {
  const protect = (converted: string) => `${tokenOpen}${tokens.push(converted) - 1}${tokenClose}`;

  const rest = text
    .replace(/(?<!`)(`+)(?!`)(.*?[^`])\1(?!`)/g, (span) => protect(span))
    .replace(/\\([!-/:-@[-`{-~])/g, (_, char: string) => protect(escapeText(char)))
    .replace(
      /(!?)\[([^\]]*)\]\(\s*(<[^<>]*>|(?:[^()\s]|\([^()\s]*\))+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g,
      (_, _image: string, label: string, target: string) => protect(link(target.replace(/^<|>$/g, ''), label, bold, tokens)),
    )
    .replace(/<([a-z][a-z0-9+.-]{1,31}:[^\s<>]*)>/gi, (_, url: string) => protect(`<${slackUrl(url)}>`))
    .replace(/<([^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)>/g, (_, email: string) =>
      protect(`<mailto:${slackUrl(email)}|${escapeText(email)}>`),
    )
    .replace(/\b(?:https?|ftp):\/\/[^\s<>]+/gi, (url) => {
      const bare = trimUrl(url);
      return protect(escapeText(bare)) + url.slice(bare.length);
    });

  return formatEmphasis(escapeText(rest), bold);
}

/** Escape, then bold/italic/strike: `***x***`, `**x**`/`__x__`, `*x*`/`_x_`, `~~x~~`. */
function formatEmphasis(text: string, bold: string): string {
  const b = boldMarker;
  return text
    .replace(/\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*/g, `${b}_$1_${b}`)
    .replace(/(?<!\w)___(?=\S)(.+?)(?<=\S)___(?!\w)/g, `${b}_$1_${b}`)
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, `${b}$1${b}`)
    .replace(/(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)/g, `${b}$1${b}`)
    .replace(/\*(?=[^\s*])(.*?[^\s*])\*/g, '_$1_')
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, '~$1~')
    .replaceAll(b, bold);
}

/** `[label](url)` / `![alt](url)` → `<url|label>`; a relative link Slack cannot open keeps its label. */
function link(url: string, label: string, bold: string, tokens: string[]): string {
  const text = label.trim() === '' ? '' : setAsideAndFormat(label.trim(), bold, tokens);
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) return text || escapeText(url);
  return text === '' ? `<${slackUrl(url)}>` : `<${slackUrl(url)}|${text}>`;
}

/** A URL inside `<…>`: entities for `&`, and no character that would end the link early. */
function slackUrl(url: string): string {
  return url.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\|/g, '%7C');
}

/** A bare URL without the sentence punctuation (or unbalanced closing parenthesis) after it. */
function trimUrl(url: string): string {
  let end = url.length;
  for (;;) {
    const last = url[end - 1] ?? '';
    const body = url.slice(0, end);
    const unbalanced = last === ')' && (body.match(/\(/g)?.length ?? 0) < (body.match(/\)/g)?.length ?? 0);
    if (!/[.,;:!?'"*_~]/.test(last) && !unbalanced) return body;
    end -= 1;
  }
}

/** The three characters Slack reserves for its own markup. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function restore(text: string, tokens: readonly string[]): string {
  return text.replace(tokenPattern, (_, index: string) => restore(tokens[Number(index)] ?? '', tokens));
}
