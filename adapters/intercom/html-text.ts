/**
 * Intercom message bodies (HTML) → plain text for the AI. A single left-to-right scan with no
 * backtracking regexes, so a hostile body costs time linear in its length: paragraphs and line
 * breaks are kept, lists get "- " / "1. ", links become "text (url)", entities are decoded,
 * images are collected (they become attachments) and everything else is reduced to its text.
 */

import { decodeHTML, decodeHTMLAttribute } from 'entities';

export interface PlainText {
  text: string;
  /** The text without the links' targets (their labels stay): what the customer wrote, for matching words in. */
  written: string;
  /** `src` of every <img>, in order. */
  images: string[];
}

/**
 * Nested lists are indented two spaces a level, up to this many levels: deeper ones are indented
 * as much. Unbounded, `<ul>` × n then `<li>` × n (8n bytes) wrote n² spaces: 90 KB of body made 200
 * million characters, and a body under BODY_LIMIT_BYTES ran the process out of memory.
 */
const MAX_INDENT_LEVELS = 8;

/** Tags whose content is not text for a person. */
const SKIPPED = new Set(['script', 'style', 'head', 'title', 'template', 'noscript']);
/** Tags that start and end a paragraph. */
const PARAGRAPHS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'table', 'ul', 'ol', 'figure', 'hr']);
/** Tags that start and end a line. */
const LINES = new Set(['div', 'tr', 'section', 'article', 'header', 'footer', 'figcaption', 'dt', 'dd', 'address']);

interface List {
  ordered: boolean;
  next: number;
}

interface OpenLink {
  href?: string;
  start: number;
}

/** Convert an HTML body to plain text (and the images it shows). */
export function htmlToText(html: string): PlainText {
  const out = new Output();
  const images: string[] = [];
  const lists: List[] = [];
  const links: OpenLink[] = [];
  let pre = 0;
  let lower: string | undefined; // for finding the end of skipped elements, made once
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const textEnd = lt === -1 ? html.length : lt;
    if (textEnd > i) out.text(html.slice(i, textEnd), pre > 0);
    if (lt === -1) break;
    const tag = readTag(html, lt);
    if (tag === 'literal') {
      out.text('<', pre > 0);
      i = lt + 1;
      continue;
    }
    if (tag === 'unterminated') {
      // A browser would not show the rest as markup either; keeping it as text keeps this linear.
      out.text(html.slice(lt), pre > 0);
      break;
    }
    i = tag.end;
    if (tag.name === undefined) continue; // comment, doctype, processing instruction
    const name = tag.name;
    if (SKIPPED.has(name) && !tag.closing) {
      i = skipElement((lower ??= html.toLowerCase()), i, name);
      continue;
    }
    if (name === 'br') out.newline();
    else if (name === 'img') {
      const src = tag.attributes.src;
      if (src) images.push(decodeEntities(src, true).trim());
    } else if (name === 'a') {
      // Links do not nest, as a browser reads them: an <a> inside another ends that one first. So text is
      // in one label at most, and reading the labels stays linear (nested, each close re-read all inside it).
      const link = links.pop();
      if (link) out.linkTarget(link.start, link.href === undefined ? undefined : decodeEntities(link.href, true).trim());
      if (!tag.closing) links.push({ href: tag.attributes.href, start: out.length });
    } else if (name === 'li') {
      out.endMarker(); // an item that ends (or another that starts) before any text: its marker stands alone
      out.newline();
      if (!tag.closing) {
        const list = lists.at(-1);
        const marker = list?.ordered ? `${list.next++}. ` : '- ';
        out.marker(`${'  '.repeat(Math.max(0, Math.min(lists.length - 1, MAX_INDENT_LEVELS)))}${marker}`);
      }
    } else if (name === 'ul' || name === 'ol') {
      const outermost = tag.closing ? lists.length <= 1 : lists.length === 0;
      out.endMarker(); // a nested list starts on its own line
      if (tag.closing) lists.pop();
      else lists.push({ ordered: name === 'ol', next: Number.parseInt(tag.attributes.start ?? '1', 10) || 1 });
      if (outermost) out.paragraph();
      else out.newline(); // a nested list sits right under its item
    } else if (name === 'td' || name === 'th') {
      if (tag.closing) out.raw(' ');
    } else if (PARAGRAPHS.has(name)) {
      if (name === 'pre') pre = Math.max(0, pre + (tag.closing ? -1 : 1));
      out.paragraph();
    } else if (LINES.has(name)) {
      out.newline();
    }
  }
  return { text: out.finish(), written: out.finish(false), images };
}

type Tag = { name?: string; closing: boolean; attributes: Record<string, string>; end: number };

/** The tag starting at `lt` ('<'), or why there is none. */
function readTag(html: string, lt: number): Tag | 'literal' | 'unterminated' {
  const next = html[lt + 1] ?? '';
  if (html.startsWith('<!--', lt)) {
    const close = html.indexOf('-->', lt + 4);
    return { closing: false, attributes: {}, end: close === -1 ? html.length : close + 3 };
  }
  if (next === '!' || next === '?') {
    const close = html.indexOf('>', lt);
    return close === -1 ? 'unterminated' : { closing: false, attributes: {}, end: close + 1 };
  }
  const closing = next === '/';
  const nameStart = lt + (closing ? 2 : 1);
  let nameEnd = nameStart;
  while (nameEnd < html.length && /[A-Za-z0-9-]/.test(html[nameEnd] as string)) nameEnd++;
  if (nameEnd === nameStart || !/[A-Za-z]/.test(html[nameStart] as string)) return 'literal';
  // Find the closing '>' outside quoted attribute values.
  let quote: string | undefined;
  let end = nameEnd;
  for (; end < html.length; end++) {
    const c = html[end];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') break;
  }
  if (end >= html.length) return 'unterminated';
  return { name: html.slice(nameStart, nameEnd).toLowerCase(), closing, attributes: readAttributes(html.slice(nameEnd, end)), end: end + 1 };
}

/** Attribute names (lower-cased) and raw values of a tag's inside. */
function readAttributes(inside: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  const pattern = /([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
  for (let match = pattern.exec(inside); match; match = pattern.exec(inside)) {
    const name = (match[1] as string).toLowerCase();
    if (!(name in attributes)) attributes[name] = match[2] ?? match[3] ?? match[4] ?? '';
  }
  return attributes;
}

/** The index just past `</name>` in the lower-cased HTML, or the end when the element is never closed. */
function skipElement(lower: string, from: number, name: string): number {
  const close = lower.indexOf(`</${name}`, from);
  if (close === -1) return lower.length;
  const gt = lower.indexOf('>', close);
  return gt === -1 ? lower.length : gt + 1;
}

/**
 * Decode character references as a browser does (every named one, decimal and hex; `entities`);
 * the spaces Intercom's editor writes as no-break spaces read as spaces, a soft hyphen as nothing.
 */
export function decodeEntities(text: string, attribute = false): string {
  if (!text.includes('&')) return text;
  return (attribute ? decodeHTMLAttribute(text) : decodeHTML(text)).replace(/[\u00a0\u2002\u2003\u2009]/g, ' ').replace(/\u00ad/g, '');
}

/**
 * The text being built, in chunks (never re-read or trimmed while building, so building stays
 * linear). Spaces and breaks are requested, not written: several closing and opening tags in a
 * row give one blank line, and none appear at the start or the end.
 */
class Output {
  private readonly chunks: string[] = [];
  /** 0: none, 1: a line break, 2: a blank line — written before the next text. */
  private pendingBreak = 0;
  private pendingSpace = false;
  /** Whether the text so far ends in whitespace or is empty (no space is needed before more). */
  private atSpace = true;
  /** Just after a list marker: the item's opening paragraph or line break is not a new line. */
  private afterMarker = false;
  /** The chunks that show links' targets (an address is not something the customer said). */
  private readonly targets = new Set<number>();

  /** A position to read text from later (a link's label). */
  get length(): number {
    return this.chunks.length;
  }

  /** Text between tags: entities decoded, whitespace collapsed outside <pre>. */
  text(raw: string, preformatted: boolean): void {
    const decoded = decodeEntities(raw);
    if (preformatted) {
      this.write(decoded);
      return;
    }
    let word = '';
    for (const c of decoded) {
      if (c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f') {
        if (word) this.write(word);
        word = '';
        this.pendingSpace = true;
      } else {
        word += c;
      }
    }
    if (word) this.write(word);
  }

  /** Text written as it is at the current position (list markers, cell separators). */
  raw(text: string): void {
    this.pendingSpace = false;
    this.write(text);
  }

  /** A list item's marker: the item's first paragraph or line (`<li><p>…`) starts right after it. */
  marker(text: string): void {
    this.raw(text);
    this.afterMarker = true;
  }

  /** Text is no longer at a list item's start. */
  endMarker(): void {
    this.afterMarker = false;
  }

  newline(): void {
    if (this.chunks.length > 0 && !this.afterMarker) this.pendingBreak = Math.max(this.pendingBreak, 1);
  }

  paragraph(): void {
    if (this.chunks.length > 0 && !this.afterMarker) this.pendingBreak = 2;
  }

  /** Close a link whose label started at `start`: show its target unless the label already is it. */
  linkTarget(start: number, href: string | undefined): void {
    if (!href || href.startsWith('#') || /^javascript:/i.test(href)) return;
    const label = this.chunks.slice(start).join('').trim();
    const shown = href.replace(/^mailto:/i, '');
    if (label === href || label === shown) return;
    const spaceAfter = this.pendingSpace; // the label's trailing space: it goes after the target (`docs </a>more`)
    if (label !== '') this.pendingSpace = true;
    const before = this.chunks.length;
    this.write(label === '' ? shown : `(${shown})`);
    this.pendingSpace = spaceAfter;
    for (let i = before; i < this.chunks.length; i++) this.targets.add(i); // the space before it too
  }

  finish(withTargets = true): string {
    return this.chunks
      .filter((_, i) => withTargets || !this.targets.has(i))
      .join('')
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .trim();
  }

  private write(text: string): void {
    if (text === '') return;
    if (this.pendingBreak > 0) {
      this.chunks.push(this.pendingBreak === 2 ? '\n\n' : '\n');
      this.atSpace = true;
    } else if (this.pendingSpace && !this.atSpace) {
      this.chunks.push(' ');
    }
    this.pendingBreak = 0;
    this.pendingSpace = false;
    this.afterMarker = false;
    this.chunks.push(text);
    this.atSpace = /\s$/.test(text);
  }
}
