import type { Readable } from 'node:stream';
import { HttpError } from '../adapter.js';

/**
 * How much of a refused body is read and thrown away so the client gets to read the 413: a client
 * still sending when the socket closes sees a reset instead of the answer. Past this, a reset is
 * the price of not reading an endless body.
 */
export const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

/** The reason of a body a parser in front of parley has read already. */
export const BODY_ALREADY_PARSED = 'body_already_parsed';

/**
 * The refusal of a body a parser in front of parley has read already: its signature cannot be
 * checked any more. `fix` says how to mount parley instead. Not logged here: the router answers it
 * as a refusal, and logRefusal writes its one line (at error, as a mistake of setup).
 */
export function bodyAlreadyRead(fix: string): HttpError {
  return new HttpError(500, BODY_ALREADY_PARSED, `The request body was already consumed by a body parser, so its signature cannot be checked. ${fix}`);
}

/** A body given whole by a parser in front of parley (`req.rawBody`): the limit still holds (no rest to drain). */
export function withinLimit(body: Buffer, limit: number): Buffer {
  if (body.byteLength > limit) throw new HttpError(413, 'payload_too_large', `The body is larger than ${limit} bytes (BODY_LIMIT_BYTES).`);
  return body;
}

/**
 * A body the client stopped sending (it closed the connection): nothing was taken and no one is
 * left to read an answer. The router answers it with an info line and the request line, neither
 * warned about nor counted as a refusal.
 */
export class ClientClosedError extends HttpError {
  constructor() {
    super(400, 'client_closed', 'The client closed the connection before its request body ended.');
    this.name = 'ClientClosedError';
  }
}

/**
 * A body that did not arrive within REQUEST_TIMEOUT_MS of parley starting to read it: a client
 * sending it slowly (a byte a second), or one that stopped half-way with the connection open,
 * would otherwise hold its connection until the server's own limit (Node's is 300 s). Answered 408
 * and the connection closed: the rest of the body is never read.
 */
export class BodyTimeoutError extends HttpError {
  constructor(timeoutMs: number) {
    super(408, 'request_timeout', `The request body did not arrive within ${timeoutMs} ms (REQUEST_TIMEOUT_MS).`);
    this.name = 'BodyTimeoutError';
  }
}

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
   * that; false when it is longer (or failed), and then the stream is closed, unless `close` is
   * false (the caller answers first and closes the socket itself).
   */
  async drain(maxBytes = DRAIN_LIMIT_BYTES, close = true): Promise<boolean> {
    let size = 0;
    try {
      if (this.declaredLength > maxBytes) throw new Error('declared too long to drain');
      for (let next = await this.rest.next(); !next.done; next = await this.rest.next()) {
        size += next.value.byteLength;
        if (size > maxBytes) throw new Error('too long to drain');
      }
      return true;
    } catch {
      if (close) await this.rest.return?.().catch(() => undefined);
      return false;
    }
  }
}

/**
 * Read a body stream into one Buffer, refusing (413) as soon as it passes `limit` bytes. The refusal
 * leaves the stream open (a `for await` would destroy it, and with it the socket) for `drain`.
 */
export async function readLimited(stream: AsyncIterable<Uint8Array>, limit: number, declaredLength?: string | null, timeoutMs?: number): Promise<Buffer> {
  const iterator = stream[Symbol.asyncIterator]();
  const declared = Number(declaredLength ?? 0) || 0;
  if (declared > limit) throw new BodyTooLargeError(limit, iterator, declared);
  const chunks: Buffer[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // One deadline for the whole body, raced by each read (a stalled read never settles by itself).
  const late =
    timeoutMs === undefined
      ? undefined
      : new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new BodyTimeoutError(timeoutMs)), timeoutMs);
        });
  const read = () => (late ? Promise.race([iterator.next(), late]) : iterator.next());
  try {
    for (let next = await read(); !next.done; next = await read()) {
      size += next.value.byteLength;
      if (size > limit) throw new BodyTooLargeError(limit, iterator, declared);
      chunks.push(Buffer.from(next.value));
    }
  } catch (error) {
    // Too late: the stream is let go (cancelled), not read further.
    if (error instanceof BodyTimeoutError) void iterator.return?.().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks, size);
}

/**
 * readLimited for a Node stream (an IncomingMessage): the same limits and the same 413 (the rest
 * left unread for `drain`), read with 'data' events instead of an async iterator, which costs more
 * than the rest of reading a small webhook body. A one-chunk body is returned without a copy.
 */
export function readStreamLimited(stream: Readable, limit: number, declaredLength?: string | null, timeoutMs?: number): Promise<Buffer> {
  const declared = Number(declaredLength ?? 0) || 0;
  if (declared > limit) return Promise.reject(new BodyTooLargeError(limit, stream[Symbol.asyncIterator](), declared));
  return new Promise((resolve, reject) => new StreamReader(stream, limit, declared, resolve, reject, timeoutMs));
}

/** One body being read: its listeners are bound methods, not closures made per request. */
class StreamReader {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly stream: Readable,
    private readonly limit: number,
    private readonly declared: number,
    private readonly resolve: (body: Buffer) => void,
    private readonly reject: (error: Error) => void,
    timeoutMs?: number,
  ) {
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onError = this.onError.bind(this);
    this.onClose = this.onClose.bind(this);
    // Gone before we got to it (an embedding app's middleware took its time): no event will come.
    if (stream.destroyed) this.onClose();
    else stream.on('data', this.onData).on('end', this.onEnd).on('error', this.onError).on('close', this.onClose);
    if (timeoutMs !== undefined && !stream.destroyed) this.timer = setTimeout(this.onTimeout.bind(this, timeoutMs), timeoutMs);
  }

  /** Too late: stop reading (the rest is never read) and refuse it. */
  private onTimeout(timeoutMs: number): void {
    this.stop();
    this.stream.pause();
    this.reject(new BodyTimeoutError(timeoutMs));
  }

  private onData(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.size += bytes.byteLength;
    if (this.size > this.limit) {
      this.stop();
      this.stream.pause();
      return this.reject(new BodyTooLargeError(this.limit, this.stream[Symbol.asyncIterator](), this.declared));
    }
    this.chunks.push(bytes);
  }

  private onEnd(): void {
    this.stop();
    this.resolve(this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size));
  }

  private onError(error: Error): void {
    this.stop();
    this.reject(error);
  }

  /** Closed before its end (the client went away): what the async iterator calls a premature close. */
  private onClose(): void {
    this.onError(Object.assign(new Error('The request closed before its body ended.'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.stream.off('data', this.onData).off('end', this.onEnd).off('error', this.onError).off('close', this.onClose);
  }
}
