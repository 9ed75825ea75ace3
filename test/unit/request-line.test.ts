/**
 * Every answer parley makes itself goes through the router: a 404 on parley's own server (and from
 * the fetch handler), a 500 body_already_parsed behind express.json(), a 413 — each gets its
 * request log line and X-Request-Id, and on an adapter's webhook the received/rejected counters.
 * A path parley does not serve, when it is mounted in an app, still falls through to the app.
 */
import type { Server } from 'node:http';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import express from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mediaTypeOf } from '../../src/adapter.js';
import { createFetchHandler } from '../../src/http/fetch.js';
import { createNodeMiddleware } from '../../src/http/node.js';
import { createRouter } from '../../src/http/router.js';
import { listen } from '../../src/http/server.js';
import { createMetrics, type Metrics } from '../../src/observe/index.js';
import { InvalidPayloadError } from '../../src/payload.js';
import { FakeAdapter } from './helpers.js';

type Line = Record<string, unknown>;

/** FakeAdapter with one POST route of its own, as the web chat has. */
class RoutedAdapter extends FakeAdapter {
  readonly routes = [{ method: 'POST' as const, path: '/test/form', handle: async () => ({ status: 200, body: 'ok' }) }];
}

function setUp(level = 'info') {
  const lines: Line[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  const metrics = createMetrics();
  const router = createRouter({
    adapters: () => [new RoutedAdapter()],
    logger,
    metrics,
    readiness: async () => ({}),
    accept: async () => ({ status: 200, body: 'accepted' }),
    paths: { health: '/healthz' },
  });
  const options = { bodyLimitBytes: 1024, logger, trustProxy: false };
  return { lines, metrics, middleware: createNodeMiddleware(router, options), fetchHandler: createFetchHandler(router, options) };
}

const requestLines = (lines: Line[]) => lines.filter((line) => line.msg === 'request');

async function count(metrics: Metrics, name: 'webhooksReceived' | 'webhooksRejected', labels: Record<string, string>): Promise<number> {
  const { values } = await metrics[name].get();
  const match = values.find((v) => Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value));
  return match?.value ?? 0;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function baseOf(server: Server): string {
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('parley’s own server', () => {
  it('logs a webhook it takes (2xx) at info, as issue 2 asks, with method, path, status, duration, platform and request id', async () => {
    const { lines, middleware } = setUp('info');
    const base = baseOf(await listen(middleware, 0, '127.0.0.1'));
    const path = new FakeAdapter().path;
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}' });
    expect(response.status).toBe(200);
    expect(requestLines(lines)).toEqual([expect.objectContaining({ level: 30, requestId: response.headers.get('x-request-id'), method: 'POST', path, status: 200, platform: 'test', durationMs: expect.any(Number) })]);
    // A refused one is at info.
    const refused = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(refused.status).toBe(415);
    expect(requestLines(lines)[1]).toMatchObject({ level: 30, status: 415, platform: 'test' });
  });

  it('logs a webhook refused with a 200 (a poison payload dropped so the platform does not redeliver it) at info, every time', async () => {
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    class DroppingAdapter extends FakeAdapter {
      override async receive(): Promise<never> {
        throw new InvalidPayloadError('The request body could not be parsed.', undefined, 200, 'malformed_body');
      }
    }
    const router = createRouter({ adapters: () => [new DroppingAdapter()], logger, metrics: createMetrics(), readiness: async () => ({}), accept: async () => ({ status: 200 }), paths: {} });
    const base = baseOf(await listen(createNodeMiddleware(router, { bodyLimitBytes: 1024, logger, trustProxy: false }), 0, '127.0.0.1'));
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${base}/test/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":' });
      expect(response.status).toBe(200);
    }
    // The refusal's own warning is summarised (once a minute per kind); the request line is not.
    expect(requestLines(lines)).toEqual(Array.from({ length: 3 }, () => expect.objectContaining({ level: 30, status: 200, platform: 'test' })));
  });

  it('refuses a compressed body 415 for what it is (not parsed as garbage), on a webhook and on a POST route, with a request line', async () => {
    const { lines, metrics, middleware } = setUp();
    const base = baseOf(await listen(middleware, 0, '127.0.0.1'));
    const gzipped = gzipSync('{"text":"hi","id":"m1"}');
    const response = await fetch(`${base}/test/hook`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipped });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'unsupported_content_encoding', message: expect.stringContaining('"gzip"') });
    expect(await count(metrics, 'webhooksRejected', { platform: 'test', reason: 'unsupported_content_encoding' })).toBe(1);
    expect(requestLines(lines).at(-1)).toMatchObject({ level: 30, status: 415, platform: 'test' });
    // identity is no encoding at all.
    const plain = await fetch(`${base}/test/hook`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' }, body: '{"text":"hi","id":"m2"}' });
    expect(plain.status).toBe(200);
    const route = await fetch(`${base}/test/form`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, body: gzipped });
    expect(route.status).toBe(415);
    const plainRoute = await fetch(`${base}/test/form`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(plainRoute.status).toBe(200);
  });

  it('answers a path it does not serve 404 with an X-Request-Id and a request line', async () => {
    const { lines, middleware } = setUp();
    const base = baseOf(await listen(middleware, 0, '127.0.0.1'));
    const response = await fetch(`${base}/nope?x=1`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestLines(lines)).toEqual([expect.objectContaining({ requestId, method: 'GET', path: '/nope', status: 404 })]);

    // An incoming request id is kept, as on every other answer.
    const echoed = await fetch(`${base}/nope`, { method: 'POST', headers: { 'x-request-id': 'req-404' }, body: 'x' });
    expect(echoed.status).toBe(404);
    expect(echoed.headers.get('x-request-id')).toBe('req-404');
    expect(requestLines(lines)[1]).toMatchObject({ requestId: 'req-404', method: 'POST', status: 404 });
  });

  it('the fetch handler does the same', async () => {
    const { lines, fetchHandler } = setUp();
    const response = await fetchHandler(new Request('http://bot.example/nope'));
    expect(response.status).toBe(404);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    expect(requestLines(lines)).toEqual([expect.objectContaining({ requestId, path: '/nope', status: 404 })]);
  });

  it('a webhook body over the limit (413) counts as received and rejected', async () => {
    const { lines, metrics, middleware } = setUp();
    const base = baseOf(await listen(middleware, 0, '127.0.0.1'));
    const body = JSON.stringify({ id: '1', text: 'x'.repeat(2000) });
    const response = await fetch(`${base}/test/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(413);
    expect(requestLines(lines)).toEqual([expect.objectContaining({ path: '/test/hook', status: 413, platform: 'test' })]);
    expect(await count(metrics, 'webhooksReceived', { platform: 'test' })).toBe(1);
    expect(await count(metrics, 'webhooksRejected', { platform: 'test', reason: 'payload_too_large' })).toBe(1);
  });
});

describe('mounted in an Express app after express.json()', () => {
  async function app() {
    const setup = setUp();
    const server = express()
      .use(express.json())
      .use(setup.middleware)
      .get('/app', (_req, res) => void res.send('from the app'));
    const base = baseOf(await new Promise<Server>((resolve) => { const s = server.listen(0, '127.0.0.1', () => resolve(s)); }));
    return { ...setup, base };
  }

  it('answers the webhook 500 body_already_parsed with an X-Request-Id, a request line and the counters', async () => {
    const { lines, metrics, base } = await app();
    const response = await fetch(`${base}/test/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"1"}' });
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('body_already_parsed');
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    expect(requestLines(lines)).toEqual([expect.objectContaining({ requestId, method: 'POST', path: '/test/hook', status: 500, platform: 'test' })]);
    expect(await count(metrics, 'webhooksReceived', { platform: 'test' })).toBe(1);
    expect(await count(metrics, 'webhooksRejected', { platform: 'test', reason: 'body_already_parsed' })).toBe(1);
  });

  it('still hands paths it does not serve to the app, without a request line of its own', async () => {
    const { lines, base } = await app();
    const served = await fetch(`${base}/app`);
    expect([served.status, await served.text()]).toEqual([200, 'from the app']);
    expect(served.headers.get('x-request-id')).toBeNull();
    const unknown = await fetch(`${base}/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('Cannot GET /nope');
    expect(unknown.headers.get('x-request-id')).toBeNull();
    expect(requestLines(lines)).toEqual([]);
  });
});

describe('mounted after express.json() keeping req.rawBody (README’s recipe)', () => {
  it('takes a gzip body Express already inflated (its Content-Encoding header left on), still refusing an encoded one it must read itself', async () => {
    const { lines, metrics, middleware } = setUp();
    const server = express()
      .use(express.json({ verify: (req, _res, buf) => void ((req as unknown as { rawBody: Buffer }).rawBody = buf) }))
      .use(middleware);
    const base = baseOf(await new Promise<Server>((resolve) => { const s = server.listen(0, '127.0.0.1', () => resolve(s)); }));
    const body = gzipSync('{"text":"hi","id":"m1"}');
    const response = await fetch(`${base}/test/hook`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });
    expect(response.status).toBe(200);
    expect(await count(metrics, 'webhooksRejected', { platform: 'test', reason: 'unsupported_content_encoding' })).toBe(0);
    expect(requestLines(lines)).toEqual([expect.objectContaining({ level: 30, status: 200, platform: 'test' })]);
    // Parley's own server reads the stream itself: still refused for what it is.
    const own = baseOf(await listen(middleware, 0, '127.0.0.1'));
    const refused = await fetch(`${own}/test/hook`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });
    expect(refused.status).toBe(415);
  });
});

describe('the fetch handler behind a framework that read the body first (Hono’s c.req.json())', () => {
  it('answers 500 body_already_parsed with a log line naming the fix, instead of throwing', async () => {
    const { lines, metrics, fetchHandler } = setUp();
    const request = new Request('http://127.0.0.1/test/hook', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"1"}' });
    await request.json();
    const response = await fetchHandler(request);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('body_already_parsed');
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, path: '/test/hook', msg: expect.stringContaining('request.clone()') }));
    expect(await count(metrics, 'webhooksRejected', { platform: 'test', reason: 'body_already_parsed' })).toBe(1);
  });

  it('answers a body stream that fails (its source broke) 400 with a request line, instead of throwing to the host', async () => {
    const { lines, metrics, fetchHandler } = setUp();
    const body = new ReadableStream({ pull: (controller) => controller.error(new Error('the source broke')) });
    const request = new Request('http://127.0.0.1/test/hook', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    const response = await fetchHandler(request);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string; message: string } }).error).toEqual({ code: 'unreadable_body', message: 'The request body could not be read: its stream failed.' });
    expect(requestLines(lines)).toEqual([expect.objectContaining({ level: 30, status: 400, platform: 'test' })]);
    expect(await count(metrics, 'webhooksRejected', { platform: 'test', reason: 'unreadable_body' })).toBe(1);
  });

  it('still reads a clone of a request whose original was read', async () => {
    const { fetchHandler } = setUp();
    const request = new Request('http://127.0.0.1/test/hook', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"1"}' });
    const clone = request.clone();
    await request.json();
    expect((await fetchHandler(clone)).status).toBe(200);
  });
});

describe('a client that hangs up half-way through its body', () => {
  const hungUp = (lines: Line[]) => lines.filter((line) => line.msg === 'the client closed the connection before its request body ended; nothing taken');

  it('behind the fetch handler: one info line and the request line, nothing thrown, nothing counted', async () => {
    const { lines, metrics, fetchHandler } = setUp();
    // What @hono/node-server hands on when the socket closes mid-body: Node's "aborted" (ECONNRESET).
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"id":"1","te'));
        controller.error(aborted);
      },
    });
    const request = new Request('http://127.0.0.1/test/hook', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    const response = await fetchHandler(request);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('client_closed');
    expect(hungUp(lines)).toEqual([expect.objectContaining({ level: 30, method: 'POST', path: '/test/hook' })]);
    expect(requestLines(lines)).toEqual([expect.objectContaining({ level: 30, path: '/test/hook', status: 400, requestId: response.headers.get('x-request-id') })]);
    expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([]);
    expect(await count(metrics, 'webhooksRejected', { platform: 'test', reason: 'client_closed' })).toBe(0);
  });

  it('behind @hono/node-server and on parley’s own server: the same lines, nothing on stderr', async () => {
    const { lines, fetchHandler, middleware } = setUp();
    // @hono/node-server prints what the fetch handler throws as a stack, outside parley's logger.
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const hono = serve({ fetch: (request) => fetchHandler(request), port: 0, hostname: '127.0.0.1' }) as Server;
    await once(hono, 'listening');
    const own = await listen(middleware, 0, '127.0.0.1');
    for (const server of [hono, own]) {
      servers.push(server);
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('POST /test/hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"id":"1","text":"half');
      await new Promise((resolve) => setTimeout(resolve, 50)); // the server has started reading the body
      socket.destroy();
    }
    for (let waited = 0; (hungUp(lines).length < 2 || requestLines(lines).length < 2) && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hungUp(lines)).toHaveLength(2);
    expect(requestLines(lines)).toEqual([expect.objectContaining({ path: '/test/hook', status: 400 }), expect.objectContaining({ path: '/test/hook', status: 400 })]);
    expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([]);
    expect(printed).not.toHaveBeenCalled();
    printed.mockRestore();
  });
});

describe('a Content-Type header sent twice', () => {
  it('reads as its first value on every mount, as Node keeps it (Web Headers join the two with ", ")', async () => {
    expect(mediaTypeOf({ headers: { 'content-type': 'Application/JSON, text/plain' } })).toBe('application/json');
    expect(mediaTypeOf({ headers: { 'content-type': 'text/plain; charset=utf-8, application/json' } })).toBe('text/plain');
    const { fetchHandler, middleware } = setUp();
    const headers = new Headers();
    headers.append('content-type', 'application/json');
    headers.append('content-type', 'application/json');
    const viaFetch = await fetchHandler(new Request('http://127.0.0.1/test/hook', { method: 'POST', headers, body: '{"id":"1"}' }));
    expect(viaFetch.status).toBe(200);

    const server = await listen(middleware, 0, '127.0.0.1');
    servers.push(server);
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    const answer: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => answer.push(chunk));
    socket.end('POST /test/hook HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"id":"1"}');
    await once(socket, 'close');
    expect(Buffer.concat(answer).toString()).toMatch(/^HTTP\/1\.1 200 /);
  });
});
