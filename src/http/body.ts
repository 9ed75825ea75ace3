import { HttpError } from '../adapter.js';

/**
 * How much of a refused body is read and thrown away so the client gets to read the 413: a client
 * still sending when the socket closes sees a reset instead of the answer. Past this, a reset is
 * the price of not reading an endless body.
 */
export const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

/** A 413 that still holds the unread rest of the body, so the HTTP layer can drain it after answering. */
export class BodyTooLargeError extends HttpError {
  constructor(
    limit: number,
    private readonly rest: AsyncIterator<Uint8Array>,
    private readonly declaredLength: number,
  ) {
    super(413, 'payload_too_large', `The body is larger than ${limit} bytes (BODY_LIMIT_BYTES).`);
    this.name = 'BodyTooLargeError';
  }

  /**
   * Read and discard the rest of the body, at most `maxBytes` of it. True when the body ended within
   * that; false when it is longer (or failed), and then the stream is closed.
   */
  async drain(maxBytes = DRAIN_LIMIT_BYTES): Promise<boolean> {
    let size = 0;
    try {
      if (this.declaredLength > maxBytes) throw new Error('declared too long to drain');
      for (let next = await this.rest.next(); !next.done; next = await this.rest.next()) {
        size += next.value.byteLength;
        if (size > maxBytes) throw new Error('too long to drain');
      }
      return true;
    } catch {
      await this.rest.return?.().catch(() => undefined);
      return false;
    }
  }
}

/**
 * Read a body stream into one Buffer, refusing (413) as soon as it passes `limit` bytes. The refusal
 * leaves the stream open (a `for await` would destroy it, and with it the socket) for `drain`.
 */
export async function readLimited(stream: AsyncIterable<Uint8Array>, limit: number, declaredLength?: string | null): Promise<Buffer> {
  const iterator = stream[Symbol.asyncIterator]();
  const declared = Number(declaredLength ?? 0) || 0;
  if (declared > limit) throw new BodyTooLargeError(limit, iterator, declared);
  const chunks: Buffer[] = [];
  let size = 0;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    size += next.value.byteLength;
    if (size > limit) throw new BodyTooLargeError(limit, iterator, declared);
    chunks.push(Buffer.from(next.value));
  }
  return Buffer.concat(chunks, size);
}
