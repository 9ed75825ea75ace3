/**
 * The optional `.env` file in the working directory, read with Node's own parser (util.parseEnv,
 * as process.loadEnvFile does) after a pass of our own: on Node 20 a line without `=` (or an
 * indented comment, a line of tabs) runs into the next line, whose variable is then silently
 * lost. Such a line is named on stderr — the file and line number, never its text, which may be
 * a secret — and left out, so the lines after it still count.
 */
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

const QUOTES = ['"', "'", '`'];

/**
 * Sets the file's variables that the environment does not already have (the environment wins, as
 * with process.loadEnvFile). A missing file is no file; one that exists but cannot be read (a
 * directory, no permission) returns the one line to print before exiting 1: the settings in it
 * would otherwise be missing without a word.
 */
export function loadEnvFile(path: string, env: NodeJS.ProcessEnv, warn: (line: string) => void): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') return undefined;
    return `parley: cannot read ${path} (${code ?? message}): it should be a file of NAME=value lines. Fix: make it one, or remove it.`;
  }
  const { lines, ignored } = usableLines(text);
  for (const line of ignored) warn(`parley: ${path}, line ${line}: no "=", so it is ignored. Fix: write it as NAME=value, or start it with # to keep it as a comment.`);
  for (const [name, value] of Object.entries(parseEnv(lines.join('\n')))) if (!(name in env)) env[name] = value;
  return undefined;
}

/**
 * The file's lines with blank lines, comments and lines without `=` emptied (a line inside a
 * quoted value that spans lines is kept as it is), and the numbers of those without `=`.
 */
export function usableLines(text: string): { lines: string[]; ignored: number[] } {
  const lines = text.split('\n');
  const ignored: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      lines[i] = '';
      continue;
    }
    const equals = line.indexOf('=');
    if (equals === -1) {
      ignored.push(i + 1);
      lines[i] = '';
      continue;
    }
    i = lastLineOfValue(lines, i, equals);
  }
  return { lines, ignored };
}

/** A value opened by a quote whose closing quote is on a later line ends there (Node's rule); else on its own line. */
function lastLineOfValue(lines: string[], at: number, equals: number): number {
  const value = lines[at]!.slice(equals + 1).trimStart();
  const quote = value[0];
  if (quote === undefined || !QUOTES.includes(quote) || value.indexOf(quote, 1) !== -1) return at;
  for (let next = at + 1; next < lines.length; next++) if (lines[next]!.includes(quote)) return next;
  return at;
}
