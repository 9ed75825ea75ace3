/**
 * Markdown → WhatsApp formatting. Models answer in CommonMark-ish markdown; WhatsApp renders
 * its own marks (`*bold*`, `_italic_`, `~strike~`, ``` ```code``` ```, `` `code` ``, `> quote`,
 * `- `/`1. ` lists) and nothing else, so an unconverted reply shows stray `**`, `#` and `[…](…)`.
 * Conversion is line by line (WhatsApp's marks do not span lines either); code is kept as it is.
 */

/** What a markdown horizontal rule becomes: WhatsApp has none. */
const horizontalRule = '———';

// Private-use characters stand in for what must survive the later passes untouched: a bold
// marker (so the italic pass does not take WhatsApp's `*bold*` for italics) and protected spans.
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

/** Convert a markdown reply to WhatsApp formatting, leaving code spans and code blocks as they are. */
export function markdownToWhatsApp(markdown: string): string {
  const output: string[] = [];
  let fence: string | undefined; // the opening fence's marker while inside a code block
  for (const rawLine of markdown.split('\n')) {
    const carriageReturn = rawLine.endsWith('\r') ? '\r' : '';
    const line = carriageReturn ? rawLine.slice(0, -1) : rawLine;
    let converted: string;
    if (fence !== undefined) {
      const close = closingFence.exec(line);
      if (close && close[2]?.[0] === fence[0] && (close[2]?.length ?? 0) >= fence.length) {
        converted = '```';
        fence = undefined;
      } else {
        converted = line;
      }
    } else {
      const open = openingFence.exec(line);
      const [, , marker = '', info = ''] = open ?? [];
      if (open && !(marker.startsWith('`') && info.includes('`'))) {
        // WhatsApp knows only ``` and would show a language tag as the first line of code.
        converted = '```';
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
  if (quote) return `> ${convertLine(quote[2] ?? '')}`;

  const bullet = bulletPattern.exec(line);
  if (bullet) return `${bullet[1] ?? ''}• ${convertInline(bullet[2] ?? '', '*')}`;

  // Numbered lists ("1. item") need nothing: WhatsApp shows them as written.
  return convertInline(line, '*');
}

/**
 * Inline markdown → WhatsApp. Code spans, escapes, links and URLs are set aside first (an
 * underscore in a URL is not italics), emphasis is converted, then the pieces are put back.
 */
function convertInline(text: string, bold: string): string {
  const tokens: string[] = [];
  return restore(setAsideAndFormat(text, bold, tokens), tokens);
}

function setAsideAndFormat(text: string, bold: string, tokens: string[]): string {
  const protect = (converted: string) => `${tokenOpen}${tokens.push(converted) - 1}${tokenClose}`;
  const rest = text
    .replace(/(?<!`)(`+)(?!`)(.*?[^`])\1(?!`)/g, (span) => protect(span))
    .replace(/\\([!-/:-@[-`{-~])/g, (_, char: string) => protect(char))
    .replace(
      /(!?)\[([^\]]*)\]\(\s*(<[^<>]*>|(?:[^()\s]|\([^()\s]*\))+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g,
      (_, _image: string, label: string, target: string) => protect(link(target.replace(/^<|>$/g, ''), label, bold, tokens)),
    )
    .replace(/<((?:https?|mailto|tel):[^\s<>]*)>/gi, (_, url: string) => protect(url))
    .replace(/\b(?:https?|ftp):\/\/[^\s<>]+/gi, (url) => {
      const bare = trimUrl(url);
      return protect(bare) + url.slice(bare.length);
    });
  return formatEmphasis(rest, bold);
}

/** Bold/italic/strike: `***x***`, `**x**`/`__x__`, `*x*`/`_x_`, `~~x~~`. */
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

/** `[label](url)` → `label (url)`; just the URL when the label is empty or the URL itself. */
function link(url: string, label: string, bold: string, tokens: string[]): string {
  const text = label.trim() === '' ? '' : setAsideAndFormat(label.trim(), bold, tokens);
  if (text === '' || label.trim() === url) return url;
  return `${text} (${url})`;
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

function restore(text: string, tokens: readonly string[]): string {
  return text.replace(tokenPattern, (_, index: string) => restore(tokens[Number(index)] ?? '', tokens));
}
