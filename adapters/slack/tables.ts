/**
 * Markdown tables for Slack. Models answer with GFM tables (`| a | b |` over `|---|---|`); Slack's
 * mrkdwn has no tables and shows them as rows of pipes and dashes in a proportional font, the
 * columns out of line. A table is set in a code block instead, its columns padded to line up.
 */
import { closingFence, openingFence, type Fence } from 'parley/adapter-kit';
import stringWidth from 'string-width'; // ^8: its 9 needs Node 22, parley runs on 20

/** The delimiter row under a table's header: `|---|:--:|`, one or more columns. */
const DELIMITER_ROW = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

/** `markdown` with every table outside code blocks turned into a code block of aligned columns. */
export function fenceTables(markdown: string): string {
  if (!markdown.includes('|')) return markdown; // most answers have no table
  const lines = markdown.split('\n');
  const out: string[] = [];
  let fence: Fence | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (fence !== undefined) {
      if (closingFence(line, fence.marker, fence.indent) !== undefined) fence = undefined;
      out.push(line);
      continue;
    }
    const open = openingFence(line);
    if (open) fence = open;
    const next = lines[i + 1];
    // As GFM: the delimiter row has as many cells as the header (`a | b` over `---` is a heading).
    if (open || next === undefined || !line.includes('|') || !DELIMITER_ROW.test(next) || cells(next).length !== cells(line).length) {
      out.push(line);
      continue;
    }
    const rows = [cells(line)];
    let length = line.length + next.length;
    let end = i + 2;
    for (; end < lines.length && lines[end]!.includes('|') && lines[end]!.trim() !== ''; end++) {
      rows.push(cells(lines[end]!));
      length += lines[end]!.length + 1;
    }
    out.push('```');
    for (const row of aligned(rows, length)) out.push(row); // not spread: a table may have more rows than a call takes arguments
    out.push('```');
    i = end - 1;
  }
  return out.join('\n');
}

/** A row's cells, trimmed: the outer pipes are no cells, an escaped `\|` is part of one. */
function cells(row: string): string[] {
  const parts = row.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '').split(/(?<!\\)\|/);
  // Code shows marks as written: a cell's bold and code marks would show as `**` and backticks.
  return parts.map((cell) => cell.trim().replace(/\\\|/g, '|').replace(/\*\*(.+?)\*\*|__(.+?)__|`([^`]+)`/g, (_: string, a?: string, b?: string, c?: string) => a ?? b ?? c ?? ''));
}

/**
 * Lined up, a table may grow to this many characters, or to MAX_GROWTH times its markdown when that
 * is more. Padding every row to the widest cell of each column, and to the most cells of any row,
 * is quadratic: 32 KB of hostile table (one row of 8,000 cells over 8,000 rows of none) lined up
 * into 256 million characters, and a little more ran out of string length. A table past it keeps
 * its cells as written, one row a line, in the code block.
 */
const MAX_ALIGNED_CHARS = 64 * 1024;
const MAX_GROWTH = 8;

/** The rows as lines of padded columns, a line of dashes under the header; `length`: the table's markdown's. */
function aligned(rows: string[][], length: number): string[] {
  const sizes = rows.map((row) => row.map(displayWidth)); // each cell measured once
  const widths: number[] = [];
  for (const size of sizes) size.forEach((width, c) => (widths[c] = Math.max(widths[c] ?? 1, width)));
  const rule = (columns: number[]) => columns.map((width) => '-'.repeat(Math.max(1, width))).join('-+-');
  const padded = rows.length * widths.reduce((sum, width) => sum + width + 3, 0);
  if (padded > Math.max(MAX_ALIGNED_CHARS, MAX_GROWTH * length)) {
    return [rows[0]!.join(' | ').trimEnd(), rule(sizes[0]!), ...rows.slice(1).map((row) => row.join(' | ').trimEnd())];
  }
  const line = (row: string[], r: number) => widths.map((width, c) => (row[c] ?? '') + ' '.repeat(width - (sizes[r]![c] ?? 0))).join(' | ').trimEnd();
  return [line(rows[0]!, 0), rule(widths), ...rows.slice(1).map((row, r) => line(row, r + 1))];
}

/** Printable ASCII: one column a character, no need to measure (most tables). */
const ASCII = /^[\x20-\x7e]*$/;

/**
 * Columns `text` takes in Slack's monospace font: per grapheme, CJK and emoji two, a combining mark
 * none, a ZWJ family or a flag one emoji. A code point count would misalign such tables. Escape
 * codes count as the characters Slack shows, not as a terminal would hide them.
 */
function displayWidth(text: string): number {
  return ASCII.test(text) ? text.length : stringWidth(text, { countAnsiEscapeCodes: true });
}
