/**
 * Splitting an AI reply into parts a platform accepts (Slack, WhatsApp and Intercom all cap a
 * message's length). Platform-agnostic: lengths are JS string lengths (UTF-16 code units), which
 * is what every platform limit we target counts, or a safe over-estimate of it.
 */
import { ConfigError } from '../errors.js';

/** A fenced code block: `start`..`end` covers the opening fence line through the closing one. */
export interface Fence {
  start: number;
  end: number;
  open: string;
  close: string;
  body: string[];
  /** False for a fence the text ends inside of (its `close` is the one it would need). */
  closed: boolean;
}

/** A range of the prepared text no cut may fall inside (a code block that fits in one part). */
type Atom = readonly [start: number, end: number];

// Indented any depth, as markdown.ts's: a code block in a nested list item.
const openingFence = /^( *)(`{3,}|~{3,})(.*)$/;
const closingFence = /^( *)(`{3,}|~{3,})[ \t]*$/;

/**
 * Where a part may end, best first; `afterMatch` cuts after the match instead of before it, and
 * `emphasis` past a `*`, `_` or `~` there that closes an emphasis (`*重要です。*次に`).
 */
const preferences: ReadonlyArray<{ pattern: RegExp; afterMatch: boolean; emphasis?: true }> = [
  { pattern: /\r?\n[ \t]*\r?\n/g, afterMatch: false }, // paragraph: a blank line
  { pattern: /\r?\n/g, afterMatch: false }, // line
  // Sentence end, keeping closing quotes; Chinese and Japanese end sentences with full-width marks
  // and no space after (a reply in those languages has no word boundaries to fall back on either),
  // so a run of them (！？, 。。。) is one end, and a closing emphasis mark is told from an opening one
  // by `emphasis` rather than by the space after it.
  { pattern: /[.!?]["'”’)\]*_]*(?=\s)|[。！？]+[」』”’）)]*/g, afterMatch: true, emphasis: true },
  { pattern: /[ \t]+/g, afterMatch: false }, // word
];

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Split `text` into parts of at most `maxChars` characters, cutting at the best boundary available:
 * paragraph, line, sentence, word, and only then mid-word (never inside a character or emoji).
 */
export function splitMessage(text: string, maxChars: number): string[] {
  if (!Number.isInteger(maxChars) || maxChars < 2) {
    throw new ConfigError(`splitMessage: maxChars must be an integer of at least 2, got ${maxChars}`);
  }
  const trimmed = trimBlankLines(text);
  if (trimmed === '') return [];
  if (trimmed.length <= maxChars) return [trimmed];

  const { prepared, atoms } = prepare(trimmed, maxChars);
  const parts: string[] = [];
  const push = (part: string) => {
    if (/\S/.test(part)) parts.push(part);
  };
  let start = 0;
  while (start < prepared.length) {
    if (prepared.length - start <= maxChars) {
      push(prepared.slice(start).trimEnd());
      break;
    }
    const cut = findCut(prepared, start, maxChars, atoms);
    push(prepared.slice(start, cut).trimEnd());
    start = skipSeparator(prepared, cut);
  }
  return parts;
}

/** Drop leading blank lines (keeping the first line's indentation) and trailing whitespace. */
function trimBlankLines(text: string): string {
  return text.replace(/^(?:[ \t]*\r?\n)+/, '').trimEnd();
}

/**
 * Replace every code block too long for one part by several fenced blocks that each fit, and
 * record every code block as an atom so the cutter never splits one.
 */
function prepare(text: string, maxChars: number): { prepared: string; atoms: Atom[] } {
  let prepared = '';
  const atoms: Atom[] = [];
  let last = 0;
  const addAtom = (block: string) => {
    atoms.push([prepared.length, prepared.length + block.length]);
    prepared += block;
  };
  for (const fence of findFences(text)) {
    prepared += text.slice(last, fence.start);
    const block = text.slice(fence.start, fence.end);
    const pieces = block.length <= maxChars ? [block] : splitCodeBlock(fence, maxChars);
    if (pieces === undefined) {
      prepared += block; // the fences alone would not fit: treat the code as ordinary text
    } else {
      // Blank lines between the pieces make them paragraphs: each is a block of its own.
      pieces.forEach((piece, index) => {
        if (index > 0) prepared += '\n\n';
        addAtom(piece);
      });
    }
    last = fence.end;
  }
  prepared += text.slice(last);
  return { prepared, atoms };
}

/** Fenced code blocks (``` or ~~~), CommonMark-style; an unclosed fence runs to the end. */
export function findFences(text: string): Fence[] {
  const fences: Fence[] = [];
  let open: { start: number; indent: string; marker: string; line: string; body: string[] } | undefined;
  let lineStart = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    const lineEnd = lineStart + rawLine.length;
    if (open === undefined) {
      const match = openingFence.exec(line);
      const [, indent = '', marker = '', info = ''] = match ?? [];
      if (match && !(marker.startsWith('`') && info.includes('`'))) {
        open = { start: lineStart, indent, marker, line, body: [] };
      }
    } else {
      const [, indent = '', close] = closingFence.exec(line) ?? [];
      if (close !== undefined && indent.length <= open.indent.length + 3 && close[0] === open.marker[0] && close.length >= open.marker.length) {
        // Ends before a CRLF's `\r`: the line break after the block stays whole, a place to cut.
        fences.push({ start: open.start, end: lineStart + line.length, open: open.line, close: line.trim(), body: open.body, closed: true });
        open = undefined;
      } else {
        open.body.push(line);
      }
    }
    lineStart = lineEnd + 1;
  }
  if (open !== undefined) {
    fences.push({ start: open.start, end: text.length, open: open.line, close: open.indent + open.marker, body: open.body, closed: false });
  }
  return fences;
}

/**
 * Split a long code block on line boundaries into blocks that each carry their own fences (the
 * opening one with its language tag), so every part renders as code. Undefined when even the
 * fences leave no room for code.
 */
function splitCodeBlock(fence: Fence, maxChars: number): string[] | undefined {
  const budget = maxChars - fence.open.length - fence.close.length - 2;
  // Room for at least two: one character (a surrogate pair) cannot be cut into a piece of one, and a
  // piece of none would never end (a long language tag from the model leaves the code that little room).
  if (budget < 2) return undefined;
  const pieces: string[] = [];
  let lines: string[] = [];
  let size = 0;
  const flush = () => {
    while (lines.length > 0 && lines[0]?.trim() === '') lines.shift();
    while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
    if (lines.length > 0) pieces.push(`${fence.open}\n${lines.join('\n')}\n${fence.close}`);
    lines = [];
    size = 0;
  };
  const add = (line: string) => {
    const grown = lines.length === 0 ? line.length : size + 1 + line.length;
    if (grown > budget) flush();
    size = lines.length === 0 ? line.length : size + 1 + line.length;
    lines.push(line);
  };
  for (const line of fence.body) {
    let rest = line;
    while (rest.length > budget) {
      const cut = hardCut(rest, 0, budget);
      add(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    add(rest);
  }
  flush();
  return pieces;
}

/**
 * The end of the next part starting at `start`: the best-preferred boundary that fits. Only the
 * text up to the limit (and the whitespace right after it, where a blank line may go on) is
 * searched: a search to the text's end for each part, and a scan of every code block for each
 * boundary, made a long reply quadratic (seconds for a few hundred KB of short code blocks).
 */
function findCut(text: string, start: number, maxChars: number, atoms: readonly Atom[]): number {
  const limit = start + maxChars;
  // Every boundary that starts by the limit lies in here, and so does the character after the limit.
  trailingSpace.lastIndex = limit + 1;
  const window = text.slice(0, limit + 1 + (trailingSpace.exec(text)?.[0].length ?? 0));
  const content = window.slice(start).search(/\S/);
  const firstContent = content === -1 ? window.length : start + content;
  const acceptable = (at: number) => at > firstContent && at <= limit && atomAround(atoms, at) === undefined;

  for (const { pattern, afterMatch, emphasis } of preferences) {
    const regex = new RegExp(pattern.source, 'g');
    regex.lastIndex = start;
    const closer = emphasis ? emphasisCloser(text, start) : undefined;
    let best: number | undefined;
    for (let match = regex.exec(window); match && match.index <= limit; match = regex.exec(window)) {
      const end = afterMatch ? match.index + match[0].length : match.index;
      const at = closer ? closer(end) : end;
      if (acceptable(at)) best = at;
    }
    if (best !== undefined) return best;
  }
  const cut = hardCut(text, start, maxChars);
  // Unreachable in practice (a code block is preceded by a line break or fits whole), but a cut
  // must never open a code block half-way.
  const atom = atomAround(atoms, cut);
  return atom && atom[0] > firstContent ? atom[0] : cut;
}

/** What a blank line that starts by the limit may go on with past it (see the first preference). */
const trailingSpace = /\r?\n?[ \t]*\r?\n?/y;

/** The code block `at` falls strictly inside of, if any (`atoms` are in order and apart: a binary search). */
function atomAround(atoms: readonly Atom[], at: number): Atom | undefined {
  let low = 0;
  let high = atoms.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((atoms[middle] as Atom)[0] < at) low = middle + 1;
    else high = middle;
  }
  const atom = atoms[low - 1]; // the last one starting before `at`
  return atom && at < atom[1] ? atom : undefined;
}

/**
 * `at` moved past a run of `*`, `_` or `~` there that closes an emphasis the part opened on its
 * line (an odd number of runs of that mark before it), so the closer stays with its sentence; asked
 * in increasing `at`, it reads the text once.
 */
function emphasisCloser(text: string, start: number): (at: number) => number {
  const runs: Record<string, number> = { '*': 0, _: 0, '~': 0 };
  let read = start;
  return (at) => {
    for (; read < at; read++) {
      const c = text[read] ?? '';
      if (c === '\n') runs['*'] = runs._ = runs['~'] = 0;
      else if (c in runs && (read === start || text[read - 1] !== c)) runs[c] = (runs[c] ?? 0) + 1;
    }
    const mark = text[at] ?? '';
    if (!(mark in runs) || (runs[mark] ?? 0) % 2 === 0) return at;
    let end = at;
    while (text[end] === mark) end++;
    return end;
  };
}

/**
 * A mid-text cut at most `maxChars` after `start`: on a grapheme boundary when one exists (so an
 * emoji sequence or accented letter stays whole), otherwise never between a surrogate pair.
 */
function hardCut(text: string, start: number, maxChars: number): number {
  const limit = start + maxChars;
  if (limit >= text.length) return text.length;
  // Grapheme rules look backwards and at the next character only, so the text up to one character
  // past the limit decides every boundary: that character whole (half an emoji modifier, regional
  // indicator or tag would read as a boundary before it).
  const next = text.charCodeAt(limit);
  const past = limit + (next >= 0xd800 && next <= 0xdbff ? 2 : 1);
  // The last boundary up to the limit: where the grapheme at the limit starts, asked for at once
  // (iterating Node 20's segments takes time quadratic in their text: 40 ms for a part of 10,000).
  const best = start + (graphemes.segment(text.slice(start, past)).containing(maxChars)?.index ?? 0);
  if (best > start) return best;
  const before = text.charCodeAt(limit - 1);
  const splitsPair = before >= 0xd800 && before <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
  return splitsPair ? limit - 1 : limit;
}

/** Where the next part starts after a cut: past the spaces and blank lines, not the indentation. */
function skipSeparator(text: string, cut: number): number {
  const separator = /[ \t]*(?:[ \t]*\r?\n)*/y;
  separator.lastIndex = cut;
  const match = separator.exec(text);
  return match ? match.index + match[0].length : cut;
}
