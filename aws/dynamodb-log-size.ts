/**
 * A conversation-log row that fits DynamoDB's 400 KB item. An exchange whose message or answer is
 * longer (a pasted document) was refused (ValidationException) and went unlogged: no row in the
 * seed's table, its tokens and cost nowhere. Its input and output are cut to fit instead, the
 * shorter kept whole when it can be, and the row says `truncated`.
 */

/** Bytes of input and output together: 400 KB less room for the row's other attributes. */
export const LOG_TEXT_MAX_BYTES = 350_000;

/** `item` with its input and output cut to fit LOG_TEXT_MAX_BYTES (marked truncated), or as it is when it fits. */
export function fitLogItem<I extends { input: string; output: string; truncated?: boolean }>(item: I): I {
  const [input, output] = [bytes(item.input), bytes(item.output)];
  if (input + output <= LOG_TEXT_MAX_BYTES) return item;
  const half = LOG_TEXT_MAX_BYTES / 2;
  const outputRoom = output <= half ? output : input <= half ? LOG_TEXT_MAX_BYTES - input : half;
  return { ...item, input: cut(item.input, LOG_TEXT_MAX_BYTES - outputRoom), output: cut(item.output, outputRoom), truncated: true };
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The longest start of `text` within `max` UTF-8 bytes, never half a character. */
function cut(text: string, max: number): string {
  if (bytes(text) <= max) return text;
  return Buffer.from(text, 'utf8').subarray(0, max).toString('utf8').replace(/\uFFFD$/, '');
}
