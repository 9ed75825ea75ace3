import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/adapter.js';
import { BodyTooLargeError, readLimited, readStreamLimited } from '../../src/http/body.js';

function chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  return Readable.from(parts.map((part) => Buffer.from(part)));
}

async function rejection(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error('expected a rejection');
}

describe('readLimited', () => {
  it('joins the chunks into the exact bytes', async () => {
    const body = await readLimited(chunks('{"a":', '"é"', '}'), 100);
    expect(body.toString('utf8')).toBe('{"a":"é"}');
    expect(body.byteLength).toBe(Buffer.byteLength('{"a":"é"}'));
  });

  it('keeps binary bytes intact across chunk boundaries', async () => {
    const bytes = Buffer.from([0xe2, 0x82, 0xac, 0x00, 0xff]);
    const stream = Readable.from([bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4)]);
    expect((await readLimited(stream, 5)).equals(bytes)).toBe(true);
  });

  it('reads an empty body', async () => {
    expect((await readLimited(chunks(), 10)).byteLength).toBe(0);
  });

  it('accepts a body of exactly the limit', async () => {
    expect((await readLimited(chunks('12345', '67890'), 10)).toString()).toBe('1234567890');
  });

  it('refuses a body one byte over the limit with 413', async () => {
    const error = await rejection(readLimited(chunks('12345', '678901'), 10));
    expect(error.status).toBe(413);
    expect(error.reason).toBe('payload_too_large');
    expect(error.message).toContain('10');
    expect(error.message).toContain('BODY_LIMIT_BYTES');
  });

  it('stops reading as soon as the limit is passed', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      while (true) {
        pulled++;
        yield Buffer.alloc(100);
      }
    }
    const error = await rejection(readLimited(endless(), 250));
    expect(error.status).toBe(413);
    expect(pulled).toBe(3);
  });

  it('refuses at once when the declared Content-Length is over the limit, without reading', async () => {
    let pulled = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      pulled++;
      yield Buffer.from('x');
    }
    const error = await rejection(readLimited(body(), 10, '11'));
    expect(error.status).toBe(413);
    expect(pulled).toBe(0);
  });

  it('still counts the bytes when the declared length lies', async () => {
    const error = await rejection(readLimited(chunks('0123456789abc'), 10, '5'));
    expect(error.status).toBe(413);
  });

  it('reads normally with a declared length within the limit, or none', async () => {
    expect((await readLimited(chunks('abc'), 10, '3')).toString()).toBe('abc');
    expect((await readLimited(chunks('abc'), 10, null)).toString()).toBe('abc');
  });

  it('leaves a refused stream open, so the rest can be drained to its end', async () => {
    let finished = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 10; i++) yield Buffer.alloc(100);
      finished = true;
    }
    const error = await rejection(readLimited(body(), 250));
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect(await (error as BodyTooLargeError).drain(10_000)).toBe(true);
    expect(finished).toBe(true);
  });

  it('gives up draining past its limit and closes the stream', async () => {
    let closed = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) yield Buffer.alloc(100);
      } finally {
        closed = true;
      }
    }
    const error = (await rejection(readLimited(endless(), 250))) as BodyTooLargeError;
    expect(await error.drain(1000)).toBe(false);
    expect(closed).toBe(true);
  });

  it('does not start draining a declared length past the drain limit', async () => {
    let pulled = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      pulled++;
      yield Buffer.from('x');
    }
    const error = (await rejection(readLimited(body(), 10, String(20 * 1024 * 1024)))) as BodyTooLargeError;
    expect(await error.drain()).toBe(false);
    expect(pulled).toBe(0);
  });
});

describe('readStreamLimited (the Node request path)', () => {
  const stream = (...parts: string[]) => Readable.from(parts.map((part) => Buffer.from(part)));

  it('joins the chunks into the exact bytes, up to exactly the limit; one chunk comes back as it is', async () => {
    expect((await readStreamLimited(stream('{"a":', '"é"', '}'), 100)).toString('utf8')).toBe('{"a":"é"}');
    expect((await readStreamLimited(stream('12345', '67890'), 10)).toString()).toBe('1234567890');
    expect((await readStreamLimited(stream(), 10)).byteLength).toBe(0);
    const only = Buffer.from('one chunk');
    expect(await readStreamLimited(Readable.from([only]), 100)).toBe(only);
  });

  it('refuses one byte over the limit, and the rest can still be drained to its end', async () => {
    let finished = false;
    const body = Readable.from(
      (async function* () {
        for (let i = 0; i < 10; i++) yield Buffer.alloc(100);
        finished = true;
      })(),
    );
    const error = (await rejection(readStreamLimited(body, 250))) as BodyTooLargeError;
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect(error.status).toBe(413);
    expect(await error.drain(10_000)).toBe(true);
    expect(finished).toBe(true);
  });

  it('refuses at once on a declared length over the limit, without reading', async () => {
    let pulled = 0;
    const body = Readable.from(
      (async function* () {
        pulled++;
        yield Buffer.from('x');
      })(),
    );
    expect((await rejection(readStreamLimited(body, 10, '11'))).status).toBe(413);
    expect(pulled).toBe(0);
  });

  it('fails when the stream errors or closes before its end', async () => {
    const failing = new Readable({ read() {} });
    const reading = readStreamLimited(failing, 100);
    failing.push('part');
    failing.destroy(new Error('connection reset'));
    await expect(reading).rejects.toThrow('connection reset');
    const closing = new Readable({ read() {} });
    const closed = readStreamLimited(closing, 100);
    closing.destroy();
    await expect(closed).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    const gone = new Readable({ read() {} });
    gone.destroy();
    await expect(readStreamLimited(gone, 100)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });
});
