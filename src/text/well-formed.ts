/** A high surrogate at the very end: its low half may start the next chunk. */
const TRAILING_HIGH = /[\uD800-\uDBFF]$/;

/**
 * The text with every lone UTF-16 surrogate replaced by U+FFFD: such a string cannot be encoded as
 * UTF-8, and an SDK that form-encodes it (Slack's Web API client) throws a URIError on every try.
 */
export function wellFormed(text: string): string {
  return text.toWellFormed();
}

/** Whether `text` holds no lone surrogate (checked on the ack path: the native check, no regex). */
export function isWellFormed(text: string): boolean {
  return text.isWellFormed();
}

/**
 * The chunks of a streamed reply, each well-formed: an AI stream may cut an emoji between two
 * chunks (its pieces are UTF-16 code units), so a high surrogate at a chunk's end waits for the
 * next chunk; one left over at the end becomes U+FFFD.
 */
export async function* wellFormedChunks(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let held = '';
  for await (const chunk of chunks) {
    const text = held + chunk;
    held = TRAILING_HIGH.test(text) ? text.slice(-1) : '';
    const ready = held ? text.slice(0, -1) : text;
    if (ready) yield wellFormed(ready);
  }
  if (held) yield '\uFFFD';
}
