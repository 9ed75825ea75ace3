/** leanFetch against a real local HTTP server: what the SDKs rely on behaves as the global fetch's. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { ANSWER_TOO_LARGE, leanFetch, leanFetchUpTo, MAX_ANSWER_BYTES, ResponseTooLargeError } from '../../src/http/lean-fetch.js';

interface Seen {
  method?: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('leanFetch', () => {
  it('sends the method, headers and body, and answers status, headers (repeated ones too) and body', async () => {
    answer = (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3', 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
    };
    const response = await leanFetch(`${base}/api/chat.postMessage`, {
      method: 'POST',
      headers: new Headers({ 'content-type': 'application/json', authorization: 'Bearer xoxb-1' }),
      body: JSON.stringify({ text: 'hi' }),
    });
    expect(response.status).toBe(429);
    expect(response.url).toBe(`${base}/api/chat.postMessage`);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ ok: false, error: 'ratelimited' });
    const request = seen.at(-1)!;
    expect(request).toMatchObject({ method: 'POST', body: '{"text":"hi"}' });
    expect(request.headers.authorization).toBe('Bearer xoxb-1');
  });

  it('sends headers given as an object or as pairs with lower-case names, repeated names joined', async () => {
    answer = (_req, res) => res.end('{}');
    await leanFetch(`${base}/object`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Trace': 'a' }, body: '{}' });
    expect(seen.at(-1)!.headers).toMatchObject({ 'content-type': 'application/json', 'x-trace': 'a' });
    await leanFetch(`${base}/pairs`, { headers: [['X-Many', 'one'], ['x-many', 'two']] });
    expect(seen.at(-1)!.headers['x-many']).toBe(new Headers([['X-Many', 'one'], ['x-many', 'two']]).get('x-many'));
  });

  it('gives a form its content type, and a 204 no body', async () => {
    answer = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    const response = await leanFetch(`${base}/form`, { method: 'POST', body: new URLSearchParams({ a: '1' }) });
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
    expect(seen.at(-1)!.headers['content-type']).toMatch(/application\/x-www-form-urlencoded/);
    expect(seen.at(-1)!.body).toBe('a=1');
  });

  it('fails as the global fetch does: TypeError "fetch failed" with the cause for a refused connection', async () => {
    const refused = createServer();
    await new Promise<void>((resolve) => refused.listen(0, '127.0.0.1', resolve));
    const port = (refused.address() as AddressInfo).port;
    await new Promise<void>((resolve) => refused.close(() => resolve()));
    const error = await leanFetch(`http://127.0.0.1:${port}/`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('rejects with the signal\'s reason when the call is aborted (a timeout)', async () => {
    answer = () => undefined; // never answers
    const error = await leanFetch(`${base}/slow`, { signal: AbortSignal.timeout(100) }).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('TimeoutError');
  });

  it('answers a body that does not decode as its content-encoding says as it came: a 429 keeps its status and Retry-After', async () => {
    // A proxy labelling its own plain error page gzip: a failed read must not turn "wait 7 s" into a dropped connection.
    answer = (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'retry-after': '7' });
      res.end('{"error":{"message":"slow down"}}');
    };
    const response = await leanFetch(`${base}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toEqual({ error: { message: 'slow down' } });
  });

  it('stops reading an answer past MAX_ANSWER_BYTES: "fetch failed", its cause saying why (the request went out)', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Sent as it drains, up to 16 MB past the bound (then ended, should the client read on).
      let sent = 0;
      const more = () => {
        while (sent < MAX_ANSWER_BYTES + 16 * chunk.length && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    };
    const error = await leanFetch(`${base}/endless`, { method: 'POST', body: '{}' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe(ANSWER_TOO_LARGE);
  });

  it('stops decompressing past MAX_ANSWER_BYTES (a gzip bomb)', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_ANSWER_BYTES + 1024 * 1024));
    answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(bomb);
    const error = await leanFetch(`${base}/bomb`, { method: 'POST', body: '{}' }).catch((caught: unknown) => caught);
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe(ANSWER_TOO_LARGE);
  });

  it('leaves a streamed answer to the global fetch, so its parts arrive as they are sent', async () => {
    let finish!: () => void;
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      finish = () => res.end('data: [DONE]\n\n');
    };
    const response = await leanFetch(`${base}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ stream: true }) });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: first\n\n');
    finish();
    while (!(await reader.read()).done);
  });

  it('leanFetchUpTo reads an answer up to its limit, and fails one larger as soon as it is, closing the connection', async () => {
    answer = (_req, res) => res.end('x'.repeat(1024));
    expect(await (await leanFetchUpTo(1024)(`${base}/exact`)).text()).toHaveLength(1024);
    // Within leanFetch's own bound (MAX_ANSWER_BYTES), as the Slack calls are: read whole.
    expect(await (await leanFetch(`${base}/exact`)).text()).toHaveLength(1024);

    // A server that never stops sending.
    let closed!: Promise<void>;
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      closed = new Promise((resolve) => res.on('close', resolve));
      const pour = () => {
        while (!res.destroyed && res.write(Buffer.alloc(64 * 1024, 'x')));
        if (!res.destroyed) res.once('drain', pour);
      };
      pour();
    };
    const error = await leanFetchUpTo(1024 * 1024)(`${base}/endless`, { method: 'POST', body: '{}' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect((error as TypeError).cause).toBeInstanceOf(ResponseTooLargeError);
    expect(((error as TypeError).cause as Error).message).toBe('the answer was larger than 1 MiB: stopped reading it');
    await closed;
  });

  it('leanFetchUpTo counts a compressed answer as it decompresses (a small gzip of much more)', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(Buffer.alloc(8 * 1024 * 1024, ' ')));
    };
    const error = await leanFetchUpTo(1024 * 1024)(`${base}/bomb`).catch((caught: unknown) => caught);
    expect(((error as TypeError).cause as Error).name).toBe('ResponseTooLargeError');
  });
});
