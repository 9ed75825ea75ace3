import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Adapter, HttpResponse, Received, Route } from '../../src/adapter.js';
import { createNodeMiddleware } from '../../src/http/node.js';
import { createRouter } from '../../src/http/router.js';
import { createMetrics, type Metrics } from '../../src/observe/index.js';
import { FakeAdapter, silentLogger } from './helpers.js';

/** The fake adapter plus two extra routes: an exact GET page and a POST prefix API. */
class RoutedAdapter extends FakeAdapter {
  readonly routes: Route[] = [
    { method: 'GET', path: '/test/page', handle: async () => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<p>page</p>' }) },
    {
      method: 'POST',
      path: '/test/api/',
      handle: async (request) => ({ status: 200, body: `api ${request.url.pathname} ${request.body.toString()}` }),
    },
  ];
}

interface Harness {
  base: string;
  port: number;
  adapter: RoutedAdapter;
  metrics: Metrics;
  accepted: Array<{ adapter: Adapter; received: Received }>;
  readiness: Record<string, string>;
  adapterStates?: Record<string, string>;
  nextCalls: string[];
  acceptError?: Error;
}

type Pre = (req: IncomingMessage & Record<string, unknown>, res: ServerResponse) => Promise<void>;

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function start(options: { withNext?: boolean; pre?: Pre; bodyLimitBytes?: number } = {}): Promise<Harness> {
  const adapter = new RoutedAdapter();
  const metrics = createMetrics();
  const harness = { adapter, metrics, accepted: [], readiness: { store: 'ok', queue: 'ok' }, nextCalls: [] } as unknown as Harness;
  const router = createRouter({
    adapters: () => [adapter],
    logger: silentLogger,
    metrics,
    readiness: async () => harness.readiness,
    adapterStates: () => harness.adapterStates as Record<string, string>,
    accept: async (a, received): Promise<HttpResponse> => {
      if (harness.acceptError) throw harness.acceptError;
      harness.accepted.push({ adapter: a, received });
      return { status: 200, headers: { 'x-accepted': String(received.messages.length) }, body: 'accepted' };
    },
    paths: { health: '/healthz', ready: '/readyz', metrics: '/metrics' },
  });
  const middleware = createNodeMiddleware(router, { bodyLimitBytes: options.bodyLimitBytes ?? 1024, logger: silentLogger, trustProxy: false });
  const server = http.createServer((req, res) => {
    void (async () => {
      await options.pre?.(req as IncomingMessage & Record<string, unknown>, res);
      const next = () => {
        harness.nextCalls.push(req.url ?? '');
        res.writeHead(299, { 'content-type': 'text/plain' }).end('from the app');
      };
      middleware(req, res, options.withNext === false ? undefined : next);
    })();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  harness.port = (server.address() as AddressInfo).port;
  harness.base = `http://127.0.0.1:${harness.port}`;
  return harness;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function errorBody(response: Response): Promise<{ code: string; message: string }> {
  expect(response.headers.get('content-type')).toContain('application/json');
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

async function counter(metrics: Metrics, name: 'webhooksReceived' | 'webhooksRejected', labels: Record<string, string>): Promise<number> {
  const { values } = await metrics[name].get();
  const match = values.find((v) => Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value));
  return match?.value ?? 0;
}

const json = { 'content-type': 'application/json' };

describe('webhooks', () => {
  it('hands the exact bytes, method, URL and lower-case headers to the adapter, and answers with accept()', async () => {
    const h = await start();
    const body = '{ "id": "e1",  "text": "héllo" }';
    const response = await fetch(`${h.base}/test/hook?team=T1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'X-Signature': 'v0=abc' },
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('accepted');
    expect(response.headers.get('x-accepted')).toBe('1');
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const request = h.adapter.received[0];
    expect(request?.method).toBe('POST');
    expect(request?.body.toString('utf8')).toBe(body);
    expect(request?.url.href).toBe(`${h.base}/test/hook?team=T1`);
    expect(request?.headers['x-signature']).toBe('v0=abc');
    expect(request?.remoteAddress).toMatch(/127\.0\.0\.1/);
    expect(h.accepted).toHaveLength(1);
    expect(h.accepted[0]?.adapter).toBe(h.adapter);
    expect(h.accepted[0]?.received.messages[0]).toMatchObject({ id: 'e1', text: 'héllo', platform: 'test' });
    expect(await counter(h.metrics, 'webhooksReceived', { platform: 'test' })).toBe(1);
  });

  it('echoes an incoming X-Request-Id', async () => {
    const h = await start();
    const response = await fetch(`${h.base}/healthz`, { headers: { 'x-request-id': 'req-123' } });
    expect(response.headers.get('x-request-id')).toBe('req-123');
    const traced = await fetch(`${h.base}/healthz`, { headers: { 'x-request-id': 'Root=1-67891233-abcdef012345678912345678' } });
    expect(traced.headers.get('x-request-id')).toBe('Root=1-67891233-abcdef012345678912345678');
  });

  it('makes its own request id for an X-Request-Id that is too long or not an id (it would go into every log line)', async () => {
    const h = await start();
    for (const given of ['x'.repeat(8000), 'two words', '{"json":1}']) {
      const response = await fetch(`${h.base}/healthz`, { headers: { 'x-request-id': given } });
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('answers a control request (no messages) with the adapter response, without accept()', async () => {
    const h = await start();
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: JSON.stringify({ challenge: 'xyz' }) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('xyz');
    expect(h.accepted).toHaveLength(0);
  });

  it('refuses a content type the adapter does not take with 415', async () => {
    const h = await start();
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"id":"1"}' });
    expect(response.status).toBe(415);
    const error = await errorBody(response);
    expect(error.code).toBe('unsupported_media_type');
    expect(error.message).toContain('application/json');
    expect(h.adapter.received).toHaveLength(0);
    expect(await counter(h.metrics, 'webhooksRejected', { platform: 'test', reason: 'unsupported_media_type' })).toBe(1);
  });

  it('answers the adapter’s HttpError (malformed body) as small JSON', async () => {
    const h = await start();
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: '{not json' });
    expect(response.status).toBe(400);
    expect((await errorBody(response)).code).toBe('malformed_body');
    expect(h.accepted).toHaveLength(0);
    expect(await counter(h.metrics, 'webhooksRejected', { platform: 'test', reason: 'malformed_body' })).toBe(1);
  });

  it('answers 503 with Retry-After when accept() throws, so the platform redelivers', async () => {
    const h = await start();
    h.acceptError = new Error('queue down');
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: '{"id":"e1"}' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect((await errorBody(response)).code).toBe('unavailable');
    expect(await counter(h.metrics, 'webhooksRejected', { platform: 'test', reason: 'unavailable' })).toBe(1);
  });
});

describe('methods and paths', () => {
  it.each(['GET', 'PUT', 'DELETE'])('answers %s on the webhook with 405 and Allow: POST', async (method) => {
    const h = await start();
    const response = await fetch(`${h.base}/test/hook`, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect((await errorBody(response)).code).toBe('method_not_allowed');
    expect(h.adapter.received).toHaveLength(0);
    // A webhook, counted as the README says: one received, one refused (as a 415 is).
    expect(await counter(h.metrics, 'webhooksReceived', { platform: 'test' })).toBe(1);
    expect(await counter(h.metrics, 'webhooksRejected', { platform: 'test', reason: 'method_not_allowed' })).toBe(1);
  });

  it('answers HEAD on the webhook 200, as a platform checking the URL before saving it (Intercom) needs, reading and taking nothing', async () => {
    const h = await start();
    const response = await fetch(`${h.base}/test/hook`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(h.adapter.received).toHaveLength(0);
    expect(h.accepted).toHaveLength(0);
    expect(await counter(h.metrics, 'webhooksRejected', { platform: 'test', reason: 'method_not_allowed' })).toBe(0);
  });

  it('answers POST on an operational route with 405 and Allow: GET', async () => {
    const h = await start();
    const response = await fetch(`${h.base}/healthz`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });

  it('answers the wrong method on an adapter route with 405 naming the route’s method', async () => {
    const h = await start();
    const page = await fetch(`${h.base}/test/page`, { method: 'POST', body: 'x' });
    expect(page.status).toBe(405);
    expect(page.headers.get('allow')).toBe('GET');
    const api = await fetch(`${h.base}/test/api/thing`);
    expect(api.status).toBe(405);
    expect(api.headers.get('allow')).toBe('POST');
    // Not the webhook: no webhook counted.
    expect(await counter(h.metrics, 'webhooksReceived', { platform: 'test' })).toBe(0);
  });

  it('serves adapter routes: exact GET (and HEAD) and POST under a prefix with its body', async () => {
    const h = await start();
    const page = await fetch(`${h.base}/test/page`);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('<p>page</p>');
    expect((await fetch(`${h.base}/test/page`, { method: 'HEAD' })).status).toBe(200);
    const api = await fetch(`${h.base}/test/api/items/7`, { method: 'POST', body: 'payload' });
    expect(await api.text()).toBe('api /test/api/items/7 payload');
  });

  it('passes paths parley does not own to next()', async () => {
    const h = await start();
    for (const path of ['/', '/other', '/test/hook/extra', '/test/pages', '/healthz2']) {
      const response = await fetch(`${h.base}${path}`, { method: 'POST', body: 'x' });
      expect(response.status, path).toBe(299);
      expect(await response.text()).toBe('from the app');
    }
    expect(h.nextCalls).toEqual(['/', '/other', '/test/hook/extra', '/test/pages', '/healthz2']);
    expect(h.adapter.received).toHaveLength(0);
  });

  it('answers 404 for paths it does not own when there is no next()', async () => {
    const h = await start({ withNext: false });
    const response = await fetch(`${h.base}/nowhere?x=1`);
    expect(response.status).toBe(404);
    // The answer quotes the path: never to be sniffed as a page.
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const error = await errorBody(response);
    expect(error.code).toBe('not_found');
    expect(error.message).toContain('/nowhere');
  });
});

describe('operational routes', () => {
  it('health is 200', async () => {
    const h = await start();
    const response = await fetch(`${h.base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${h.base}/healthz`, { method: 'HEAD' })).status).toBe(200);
  });

  it('readiness is 200 when every check is ok, 503 with the checks when one is not', async () => {
    const h = await start();
    const ready = await fetch(`${h.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { store: 'ok', queue: 'ok' } });
    h.readiness = { store: 'ok', queue: 'down' };
    const notReady = await fetch(`${h.base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not_ready', checks: { store: 'ok', queue: 'down' } });
  });

  it('readiness names each adapter\'s state, and a failed adapter alone does not make it 503', async () => {
    const h = await start();
    h.adapterStates = { slack: 'failed: An HTTP protocol error occurred: statusCode = 500', web: 'ready' };
    const ready = await fetch(`${h.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { store: 'ok', queue: 'ok' }, adapters: h.adapterStates });
    h.readiness = { store: 'down', queue: 'ok' };
    expect((await fetch(`${h.base}/readyz`)).status).toBe(503);
  });

  it('metrics are served in the Prometheus text format', async () => {
    const h = await start();
    await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: '{"id":"1"}' });
    await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: '{"id":"2"}' });
    const response = await fetch(`${h.base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toContain('parley_webhooks_received_total{platform="test"} 2');
  });
});

describe('body limits', () => {
  it('refuses a declared body over the limit with 413, without calling the adapter', async () => {
    const h = await start({ bodyLimitBytes: 1024 });
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: JSON.stringify({ id: '1', text: 'x'.repeat(2000) }) });
    expect(response.status).toBe(413);
    expect((await errorBody(response)).code).toBe('payload_too_large');
    expect(h.adapter.received).toHaveLength(0);
  });

  it('refuses a chunked body (no Content-Length) once it passes the limit', async () => {
    const h = await start({ bodyLimitBytes: 1024 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: h.port, path: '/test/hook', method: 'POST', headers: json }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(300));
      req.end();
    });
    expect(status).toBe(413);
    expect(h.adapter.received).toHaveLength(0);
  });

  it('accepts a body right at the limit', async () => {
    const h = await start({ bodyLimitBytes: 1024 });
    const prefix = '{"id":"1","text":"';
    const body = `${prefix}${'x'.repeat(1024 - prefix.length - 2)}"}`;
    expect(Buffer.byteLength(body)).toBe(1024);
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body });
    expect(response.status).toBe(200);
  });
});

describe('bodies parsed by the host app first', () => {
  const original = '{"id":"raw-1",   "text":"spaced  out"}';

  it('uses req.rawBody (Buffer) when a body parser kept it', async () => {
    const h = await start({
      pre: async (req) => {
        const raw = await readAll(req);
        req.rawBody = raw;
        req.body = JSON.parse(raw.toString()) as unknown;
      },
    });
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: original });
    expect(response.status).toBe(200);
    expect(h.adapter.received[0]?.body.toString()).toBe(original);
  });

  it('uses req.rawBody when it is a string', async () => {
    const h = await start({
      pre: async (req) => {
        const raw = await readAll(req);
        req.rawBody = raw.toString('utf8');
        req.body = JSON.parse(raw.toString()) as unknown;
      },
    });
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: original });
    expect(response.status).toBe(200);
    expect(h.adapter.received[0]?.body.toString()).toBe(original);
  });

  it('refuses a req.rawBody over the body limit with 413, as it would the stream', async () => {
    const h = await start({
      bodyLimitBytes: 1024,
      pre: async (req) => {
        req.rawBody = await readAll(req);
      },
    });
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: `{"id":"big","text":"${'x'.repeat(2000)}"}` });
    expect(response.status).toBe(413);
    expect((await errorBody(response)).code).toBe('payload_too_large');
    expect(h.adapter.received).toHaveLength(0);
  });

  it('answers 500 body_already_parsed with a helpful message when the body was consumed without rawBody', async () => {
    const h = await start({
      pre: async (req) => {
        req.body = JSON.parse((await readAll(req)).toString()) as unknown;
      },
    });
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: original });
    expect(response.status).toBe(500);
    const error = await errorBody(response);
    expect(error.code).toBe('body_already_parsed');
    expect(error.message).toMatch(/express\.json/);
    expect(error.message).toContain('rawBody');
    expect(h.adapter.received).toHaveLength(0);
  });

  it('answers body_already_parsed when the stream was read even if no req.body was set', async () => {
    const h = await start({
      pre: async (req) => {
        await readAll(req);
      },
    });
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: original });
    expect(response.status).toBe(500);
    expect((await errorBody(response)).code).toBe('body_already_parsed');
  });

  it('still reads the stream when a parser only set req.body = {} and left the bytes unread (body-parser 1.x skipping another type)', async () => {
    const h = await start({
      pre: async (req) => {
        // express 4 / body-parser 1.x: `req.body = req.body || {}` runs even for content types it does not parse
        req.body = {};
      },
    });
    const response = await fetch(`${h.base}/test/hook`, { method: 'POST', headers: json, body: original });
    expect(response.status).toBe(200);
    expect(h.adapter.received[0]?.body.toString()).toBe(original);
  });
});
