/**
 * A body over BODY_LIMIT_BYTES, sent with fetch to a real listening server: the client must read
 * the 413, not a connection reset (the server drains the rest of the body before closing).
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const MiB = 1024 * 1024;
const json = { 'content-type': 'application/json' };

/** A JSON-looking body of `bytes` bytes (only its size matters). */
const bodyOf = (bytes: number) => `{"conversation":"big","text":"${'x'.repeat(bytes - 34)}"}`;

/** The same body as a stream, so it goes out chunked, with no Content-Length to refuse it early. */
function streamOf(bytes: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const size = Math.min(chunk, bytes - sent);
      sent += size;
      controller.enqueue(new Uint8Array(size).fill(0x78));
    },
  });
}

describe('oversized bodies (real server, BODY_LIMIT_BYTES=1 MiB)', () => {
  let web: WebBot;
  beforeAll(async () => {
    web = await startWebBot({ BODY_LIMIT_BYTES: String(MiB) });
  });
  afterAll(async () => {
    await web.close();
  });

  it('answers 413 to a 2 MiB body every time (20 in a row), never a reset', async () => {
    const body = bodyOf(2 * MiB);
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: json, body }).catch((error: Error) => error);
      outcomes.push(res instanceof Response ? `${res.status} ${((await res.json()) as { error: { code: string } }).error.code}` : `${res.message}: ${String(res.cause)}`);
    }
    expect(outcomes).toEqual(Array(20).fill('413 payload_too_large'));
  });

  it('answers 413 to a 2 MiB chunked body (no Content-Length) every time', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: json, body: streamOf(2 * MiB), duplex: 'half' } as RequestInit);
      expect(res.status).toBe(413);
    }
  });

  it('answers 413 to a client that stops sending half-way through its oversized body, within the drain wait', async () => {
    const { port } = new URL(web.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
    socket.on('error', () => undefined);
    socket.write(`POST /web/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${2 * MiB}\r\n\r\n`);
    socket.write(Buffer.alloc(MiB + 64 * 1024, 0x78)); // past the limit, then nothing more
    const started = Date.now();
    while (!answer.includes('payload_too_large') && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    // The socket is closed after this answer: it says so, so a keep-alive client does not reuse it.
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('does not hang on a body past the 8 MiB drain (a reset is acceptable there), and keeps serving', async () => {
    const started = Date.now();
    const outcome = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: json, body: streamOf(24 * MiB), duplex: 'half' } as RequestInit).then(
      (res) => res.status,
      () => 'reset',
    );
    expect([413, 'reset']).toContain(outcome);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
  });

  it.each([
    ['keep-alive', ''],
    // What Python's urllib, nginx's proxy_pass and Node's agent: false send: Node closes such a
    // connection once its answer is written, so the answer must wait for the body's end.
    ['Connection: close', 'Connection: close\r\n'],
  ])('keeps the connection open while a slow client finishes sending a 2 MiB body, so it reads the 413 (%s)', async (_name, connectionHeader) => {
    const { port } = new URL(web.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    let failure: Error | undefined;
    socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
    socket.on('error', (error) => (failure = error));
    const total = 2 * MiB;
    socket.write(`POST /web/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n${connectionHeader}\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    for (let sent = 0; sent < total && !failure; sent += chunk.length) {
      if (!socket.write(chunk)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
      await new Promise((resolve) => setTimeout(resolve, 2)); // a client slower than the server
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    expect(failure?.message).toBeUndefined();
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('payload_too_large');
  });
});
