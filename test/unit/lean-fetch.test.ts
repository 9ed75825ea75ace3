/** leanFetch against a real local HTTP server: what the SDKs rely on behaves as the global fetch's. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leanFetch } from '../../src/http/lean-fetch.js';

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
});
