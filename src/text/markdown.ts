/**
 * Markdown → a chat platform's own formatting, the platform-neutral part. Models answer in
 * CommonMark-ish markdown; each platform shows a dialect of its own (or HTML). This module finds
 * the markdown (code blocks, rules, headings, quotes, bullets, code spans, backslash escapes,
 * links, autolinks, bare URLs, emphasis) and asks a small per-target renderer what each becomes;
 * the adapters keep only their renderer.
 *
 * Inline text is converted in passes: code spans, escapes, links and URLs are set aside first (an
 * underscore in a URL is not italics), the rest is escaped and its emphasis converted, then the
 * set-aside pieces are put back.
 */

import { replaceLinks, replaceSpans } from './spans.js';

/** How one target writes inline markup. Every hook returns target text, already escaped. */
export interface InlineRenderer {
  /** Plain text, and a backslash-escaped character: escape what the target reserves. */
  text(text: string): string;
  /** Bold, italic, strike: converts the markdown emphasis left in text already passed through `text`. */
  emphasis(text: string): string;
  /** A code span: as written (backticks included) and its content. */
  code(span: string, content: string): string;
  /** `[label](url)` / `![alt](url)`; `label` is trimmed, `inline(label)` formats it like other inline text. */
  link(url: string, label: string, inline: (text: string) => string): string;
  /** `<scheme:…>`; undefined leaves it as text. */
  autolink(url: string): string | undefined;
  /** `<name@example.com>`; without this hook it is left as text. */
  email?(address: string): string;
  /** A bare URL, without the sentence punctuation after it. */
  url(url: string): string;
  /** Which bare URLs count (a global pattern); http, https and ftp ones unless given. */
  bareUrls?: RegExp;
}

/** Emphasis marks for dialects that wrap text in one mark on both sides (Slack, WhatsApp). */
export interface EmphasisMarks {
  bold: string;
  italic: string;
  strike: string;
}

/** How one target writes a whole message: its inline rules, its emphasis marks and its block rules. */
export interface MarkdownRenderer extends Omit<InlineRenderer, 'emphasis'> {
  marks: EmphasisMarks;
  /** What a horizontal rule becomes. */
  rule: string;
  /** A code block's opening or closing fence line (the language tag is dropped). */
  fence(indent: string): string;
  /** A line of code inside a code block; kept as it is without this hook. */
  codeLine?(line: string): string;
  /** A heading, its title formatted without bold (the heading as a whole is the target's to mark). */
  heading(title: string): string;
  /** A quoted line: the markdown quote marker (`> `) and the converted rest of the line. */
  quote(marker: string, line: string): string;
  /** A bullet item (`-`, `*`, `+`), its text converted. */
  bullet(indent: string, item: string): string;
}

/** A fenced code block's opening line: its indent and its fence (```` ``` ```` or `~~~`, three or more). */
export interface Fence {
  indent: string;
  marker: string;
}

// Private-use characters stand in for what must survive the later passes untouched: a bold
// marker (so the italic pass does not take a `*bold*` mark for italics) and set-aside pieces.
const boldMarker = '\uE000';
const tokenOpen = '\uE001';
const tokenClose = '\uE002';
const tokenPattern = /\uE001(\d+)\uE002/g;

// Indented any depth: a code block in a nested list item is indented to the item's text (`    ```py`).
const openingFencePattern = /^( *)(`{3,}|~{3,})(.*)$/;
const closingFencePattern = /^( *)(`{3,}|~{3,})[ \t]*$/;
const rulePattern = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
// The title ends in a non-blank (or is empty): a lazy `(.*?)` retried `[ \t]*$` at every blank of a long run.
// `(?=([ \t]+))\1` takes the blanks at once: a failed match retried every shorter run of them (here and below).
const headingPattern = /^ {0,3}#{1,6}(?:(?=([ \t]+))\1((?:.*?[^ \t])?))?[ \t]*$/;
/** A heading's closing `#`s; a blank run is tried from its start only (from each of its blanks was quadratic). */
const closingHashesPattern = /(?:^|(?<![ \t])[ \t]+)#+$/;
const quotePattern = /^( {0,3}>[ \t]?)(.*)$/;
/** Quotes nested deeper than this are text: no chat shows them, and each level costs a pass over the line. */
const maxQuoteDepth = 16;
const bulletPattern = /^([ \t]*)[-*+](?=([ \t]+))\2(.*)$/;

const codeSpanPattern = /(?<!`)(`+)(?!`)(.*?[^`])\1(?!`)/g;
const escapePattern = /\\([!-/:-@[-`{-~])/g;
/** `<scheme:…>`, or Slack's own `<url|label>` (a model writes it back from a Slack message it read). */
const autolinkPattern = /<([a-z][a-z0-9+.-]{1,31}:[^\s<>|]*)(?:\|([^<>]*))?>/gi;
// The domain has a dot between two characters; checked ahead, as `[^…]+\.[^…]+` backtracked cubically.
const emailPattern = /<([^\s@<>]+@(?=[^\s@<>]+\.[^\s@<>])[^\s@<>]+)>/g;
const webUrlPattern = /\b(?:https?|ftp):\/\/[^\s<>]+/gi;

/**
 * Convert a markdown message line by line (chat formatting does not span lines either), leaving
 * code spans and code blocks as they are. Numbered lists ("1. item") are left as written.
 */
export function renderMarkdown(markdown: string, renderer: MarkdownRenderer): string {
  const inline: InlineRenderer = { ...renderer, emphasis: (text) => emphasis(text, renderer.marks) };
  const title: InlineRenderer = { ...renderer, emphasis: (text) => emphasis(text, { ...renderer.marks, bold: '' }) };

  // A quote's rest is a line of its own (`> - item`, `> > nested`), converted in a loop: recursing
  // once per `>` overflowed the stack on a long run of them. Deeper than maxQuoteDepth, `>` is text.
  const convertLine = (line: string): string => {
    const markers: string[] = [];
    for (let rest = line; ; ) {
      const quote = markers.length < maxQuoteDepth ? quotePattern.exec(rest) : null;
      const converted = convertBlock(rest, quote !== null);
      if (converted !== undefined) return markers.reduceRight((inner, marker) => renderer.quote(marker, inner), converted);
      markers.push(quote?.[1] ?? '');
      rest = quote?.[2] ?? '';
    }
  };
  /** A line that is no quote, converted; undefined when it is a quote (`quoted`) and nothing before that applies. */
  const convertBlock = (line: string, quoted: boolean): string | undefined => {
    if (line.trim() === '') return line;
    if (isRule(line)) return renderer.rule;
    const heading = headingTitle(line);
    if (heading !== undefined) return heading === '' ? '' : renderer.heading(renderInline(heading, title));
    if (quoted) return undefined;
    const bullet = bulletPattern.exec(line);
    if (bullet) return renderer.bullet(bullet[1] ?? '', renderInline(bullet[3] ?? '', inline));
    return renderInline(line, inline);
  };

  const output: string[] = [];
  let fence: Fence | undefined; // the opening fence while inside a code block
  // The placeholders below are private-use characters: a model's text must not forge them.
  for (const rawLine of markdown.replace(/[\uE000-\uE002]/g, '').split('\n')) {
    const carriageReturn = rawLine.endsWith('\r') ? '\r' : '';
    const line = carriageReturn ? rawLine.slice(0, -1) : rawLine;
    let converted: string;
    if (fence !== undefined) {
      const indent = closingFence(line, fence.marker, fence.indent);
      if (indent !== undefined) fence = undefined;
      converted = indent !== undefined ? renderer.fence(indent) : renderer.codeLine ? renderer.codeLine(line) : line;
    } else {
      const open = openingFence(line);
      fence = open;
      converted = open ? renderer.fence(open.indent) : convertLine(line);
    }
    output.push(converted + carriageReturn);
  }
  return output.join('\n');
}

/** Convert one piece of inline markdown (no block syntax). */
export function renderInline(text: string, renderer: InlineRenderer): string {
  const tokens: string[] = [];
  return restore(setAside(text, renderer, tokens), tokens);
}

/** `renderInline` with the set-aside pieces still placeholders into `tokens` (shared with link labels). */
function setAside(text: string, renderer: InlineRenderer, tokens: string[]): string {
  const protect = (converted: string) => `${tokenOpen}${tokens.push(converted) - 1}${tokenClose}`;
  const inline = (label: string) => setAside(label, renderer, tokens);

  let rest = text
    .replace(codeSpanPattern, (span, _ticks: string, content: string) => protect(renderer.code(span, content)))
    .replace(escapePattern, (_, char: string) => protect(renderer.text(char)));
  rest = replaceLinks(rest, (label, target) => protect(renderer.link(target.replace(/^<|>$/g, ''), label.trim(), inline)));
  rest = rest.replace(autolinkPattern, (written, url: string, label: string | undefined) => {
    // `<url|label>` is a link with a label, as `[label](url)` is.
    if (label !== undefined && label.trim() !== '') return protect(renderer.link(url, label.trim(), inline));
    const converted = renderer.autolink(label === undefined ? url : `${url}|`);
    return converted === undefined ? written : protect(converted);
  });
  const { email } = renderer;
  if (email) rest = rest.replace(emailPattern, (_, address: string) => protect(email.call(renderer, address)));
  rest = rest.replace(renderer.bareUrls ?? webUrlPattern, (url) => {
    const bare = trimUrl(url);
    return protect(renderer.url(bare)) + url.slice(bare.length);
  });

  return renderer.emphasis(renderer.text(rest));
}

/**
 * Markdown emphasis → one-mark-each-side dialects: `***x***`/`___x___` bold italic, `**x**`/`__x__`
 * bold, `*x*` italic, `~~x~~` strike. `_x_` stays as written (it is already italics there).
 */
export function emphasis(text: string, marks: EmphasisMarks): string {
  const b = boldMarker;
  const { italic: i, strike: s } = marks;
  // Each span with the closers it can end at (see replaceSpans). An opener ends its run of `*` before
  // a letter, a closer starts its run after one: `*****` or `****1234` is written as it is, not bold.
  let out = replaceSpans(text, /\*\*\*(?=[^\s*])(.+?)(?<=[^\s*])\*\*\*/g, /(?<=[^\s*])\*\*\*/g, (_, x) => b + i + x + i + b);
  out = replaceSpans(out, /(?<!\w)___(?=\S)(.+?)(?<=\S)___(?!\w)/g, /(?<=\S)___(?!\w)/g, (_, x) => b + i + x + i + b);
  out = replaceSpans(out, /\*\*(?=[^\s*])(.+?)(?<=[^\s*])\*\*/g, /(?<=[^\s*])\*\*/g, (_, x) => b + x + b);
  out = replaceSpans(out, /(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)/g, /(?<=\S)__(?!\w)/g, (_, x) => b + x + b);
  // Not inside a word (`2*3*4`, `x *y*z`): these dialects show no emphasis there, and `2_3_4` would read wrong.
  out = replaceSpans(out, /(?<![\p{L}\p{N}])\*(?=[^\s*])([^*]*?[^\s*])\*(?![\p{L}\p{N}])/gu, /(?<=[^\s*])\*(?![\p{L}\p{N}])/gu, (_, x) => i + x + i);
  out = replaceSpans(out, /~~(?=\S)(.+?)(?<=\S)~~/g, /(?<=\S)~~/g, (_, x) => s + x + s);
  return out.replaceAll(b, marks.bold);
}

/** The fence of a line that opens a fenced code block, or undefined. */
export function openingFence(line: string): Fence | undefined {
  const [match, indent = '', marker = '', info = ''] = openingFencePattern.exec(line) ?? [];
  // A backtick in a backtick fence's info string makes the line inline code, not a fence.
  if (match === undefined || (marker.startsWith('`') && info.includes('`'))) return undefined;
  return { indent, marker };
}

/**
 * The indent of a line that closes the code block `marker` opened (same character, at least as long,
 * indented at most 3 more than the opening fence's `openIndent`), or undefined.
 */
export function closingFence(line: string, marker: string, openIndent = ''): string | undefined {
  const [match, indent = '', close = ''] = closingFencePattern.exec(line) ?? [];
  const inside = indent.length <= openIndent.length + 3;
  return match !== undefined && inside && close[0] === marker[0] && close.length >= marker.length ? indent : undefined;
}

/** Whether the line is a horizontal rule (`---`, `***`, `___`, spaced or not). */
export function isRule(line: string): boolean {
  return rulePattern.test(line);
}

/** A heading's title without its `#` marks (empty for a bare `#`), or undefined when the line is no heading. */
export function headingTitle(line: string): string | undefined {
  const heading = headingPattern.exec(line);
  return heading ? (heading[2] ?? '').replace(closingHashesPattern, '').trim() : undefined;
}

/**
 * A bare URL without the sentence punctuation (or unbalanced closing parenthesis) after it. The
 * parentheses are counted once and updated per character dropped (recounting was quadratic).
 */
function trimUrl(url: string): string {
  let opened = url.match(/\(/g)?.length ?? 0;
  let closed = url.match(/\)/g)?.length ?? 0;
  let end = url.length;
  for (;;) {
    const last = url[end - 1] ?? '';
    const unbalanced = last === ')' && opened < closed;
    if (!/[.,;:!?'"*_~]/.test(last) && !unbalanced) return url.slice(0, end);
    if (last === ')') closed -= 1;
    if (last === '(') opened -= 1;
    end -= 1;
  }
}

/** Put the set-aside pieces back; a link's label may itself hold some (a code span). */
function restore(text: string, tokens: readonly string[]): string {
  return text.replace(tokenPattern, (_, index: string) => restore(tokens[Number(index)] ?? '', tokens));
}
