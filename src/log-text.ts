/**
 * What the conversation log keeps of a message or an answer. The log caps its entries by count
 * (10,000 in its index, 500 a conversation), not by size: a person pasting 40,000-character texts
 * made each entry some 48 KB on Redis, an index of about 500 MB that every console search read
 * whole. The start of each is kept, which is what the console's reader needs; the model's history
 * (ai/history.ts) and the platforms' own transcripts keep the whole text.
 */

/** The most characters (code points) kept of an exchange's input, and of its output: a default-length answer (1024 tokens) fits. */
export const LOG_TEXT_MAX_CHARS = 4000;

/** `text`, or its first `max` characters (never half a character) and a marker saying how many more there were. */
export function logText(text: string, max = LOG_TEXT_MAX_CHARS): string {
  if (text.length <= max) return text; // UTF-16 units: never fewer than the characters
  const characters = Array.from(text);
  if (characters.length <= max) return text;
  return `${characters.slice(0, max).join('')} … [${characters.length - max} more characters not kept in the log]`;
}
