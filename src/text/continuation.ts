/**
 * The rest of a reply that could not be shown where it began (a stream that broke off), made
 * readable as a message of its own: a code block the shown part left open is opened again, so the
 * code reads as code (and its `*` and `_` are not taken for emphasis), and a word cut in two is
 * marked as continued.
 */
import { findFences } from './split.js';

export function continuationOf(shown: string, rest: string): string {
  const last = findFences(shown).at(-1);
  if (last && !last.closed) return `${last.open}${rest.startsWith('\n') ? '' : '\n'}${rest}`;
  return /\S$/.test(shown) && /^\S/.test(rest) ? `…${rest}` : rest;
}
