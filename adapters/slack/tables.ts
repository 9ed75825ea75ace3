/**
 * Markdown tables for Slack. Models answer with GFM tables (`| a | b |` over `|---|---|`); Slack's
 * mrkdwn has no tables and shows them as rows of pipes and dashes in a proportional font, the
 * columns out of line. A table is set in a code block instead, its columns padded to line up.
 */
import { closingFence, openingFence } from 'parley/adapter-kit';

/** The delimiter row under a table's header: `|---|:--:|`, one or more columns. */
const DELIMITER_ROW = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

/** `markdown` with every table outside code blocks turned into a code block of aligned columns. */
export function fenceTables(markdown: string): string {
  if (!markdown.includes('|')) return markdown; // most answers have no table
  const lines = markdown.split('\n');
  const out: string[] = [];
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (fence !== undefined) {
      if (closingFence(line, fence) !== undefined) fence = undefined;
      out.push(line);
      continue;
    }
    const open = openingFence(line);
    if (open) fence = open.marker;
    const next = lines[i + 1];
    // As GFM: the delimiter row has as many cells as the header (`a | b` over `---` is a heading).
    if (open || next === undefined || !line.includes('|') || !DELIMITER_ROW.test(next) || cells(next).length !== cells(line).length) {
      out.push(line);
      continue;
    }
    const rows = [cells(line)];
    let end = i + 2;
    for (; end < lines.length && lines[end]!.includes('|') && lines[end]!.trim() !== ''; end++) rows.push(cells(lines[end]!));
    out.push('```', ...aligned(rows), '```');
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

/** The rows as lines of padded columns, a line of dashes under the header. */
function aligned(rows: string[][]): string[] {
  const columns = Math.max(...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(1, ...rows.map((row) => [...(row[c] ?? '')].length)));
  const line = (row: string[]) => widths.map((width, c) => pad(row[c] ?? '', width)).join(' | ').trimEnd();
  return [line(rows[0]!), widths.map((width) => '-'.repeat(width)).join('-+-'), ...rows.slice(1).map(line)];
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(width - [...text].length);
}
