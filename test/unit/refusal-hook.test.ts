/**
 * Adapter.decorateRefusal: the refusals the HTTP layer answers on an adapter's webhook or routes
 * (a body over BODY_LIMIT_BYTES, a wrong content type, a wrong method, an error the adapter threw)
 * go through it, through the Node middleware and the fetch handler alike; the adapter's own
 * answers do not.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse, Route } from '../../src/adapter.js';
import { createFetchHandler } from '../../src/http/fetch.js';
import { createNodeMiddleware } from '../../src/http/node.js';
import { createRouter } from '../../src/http/router.js';
import { createMetrics } from '../../src/observe/index.js';
import { FakeAdapter, silentLogger } from './helpers.js';

/** Marks every refusal it is given, and remembers the statuses. */
class DecoratingAdapter extends FakeAdapter {
  readonly decorated: number[] = [];
  readonly routes: Route[] = [{ method: 'POST', path: '/test/api', handle: async () => ({ status: 201, body: 'made' }) }];

  decorateRefusal(request: HttpRequest, response: HttpResponse): HttpResponse {
    this.decorated.push(response.status);
    return { ...response, headers: { ...response.headers, 'x-refused-by': `test ${request.headers['x-caller'] ?? ''}`.trim() } };
  }
}

const LIMIT = 1024;
const json = { 'content-type': 'application/json', 'x-caller': 'widget' };
const big = JSON.stringify({ id: '1', text: 'x'.repeat(2 * LIMIT) });

function routerFor(adapter: DecoratingAdapter) {
  return createRouter({
    adapters: () => [adapter],
    logger: silentLogger,
    metrics: createMetrics(),
    readiness: async () => ({}),
    accept: async () => ({ status: 200, body: 'accepted' }),
    paths: { health: '/healthz' },
  });
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function nodeServer(adapter: DecoratingAdapter): Promise<string> {
  const middleware = createNodeMiddleware(routerFor(adapter), { bodyLimitBytes: LIMIT, logger: silentLogger, trustProxy: false });
  const server = http.createServer((req, res) => middleware(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('decorateRefusal through the Node middleware', () => {
  it('decorates a 413 (body over the limit), a 415, a 405 and an error receive threw, on the webhook and on routes, and nothing else', async () => {
    const adapter = new DecoratingAdapter();
    const base = await nodeServer(adapter);
    const cases: Array<[string, RequestInit, number]> = [
      ['/test/hook', { method: 'POST', headers: json, body: big }, 413],
      ['/test/api', { method: 'POST', headers: json, body: big }, 413],
      ['/test/hook', { method: 'POST', headers: { ...json, 'content-type': 'text/plain' }, body: '{}' }, 415],
      ['/test/hook', { method: 'GET', headers: json }, 405],
      ['/test/api', { method: 'GET', headers: json }, 405],
      ['/test/hook', { method: 'POST', headers: json, body: 'not json' }, 400],
    ];
    for (const [path, init, status] of cases) {
      const response = await fetch(`${base}${path}`, init);
      expect([path, init.method, response.status, response.headers.get('x-refused-by')]).toEqual([path, init.method, status, 'test widget']);
      // Still the small JSON error, with its request id.
      expect(((await response.json()) as { error: { code: string } }).error.code).toBeTruthy();
      expect(response.headers.get('x-request-id')).toBeTruthy();
    }
    expect(adapter.decorated).toEqual([413, 413, 415, 405, 405, 400]);

    // The adapter's own answers, and paths of no adapter, are left alone.
    const taken = await fetch(`${base}/test/hook`, { method: 'POST', headers: json, body: JSON.stringify({ id: '1', text: 'hi' }) });
    expect(taken.status).toBe(200);
    expect(taken.headers.get('x-refused-by')).toBeNull();
    expect((await fetch(`${base}/test/api`, { method: 'POST', headers: json, body: '{}' })).status).toBe(201);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).headers.get('x-refused-by')).toBeNull();
    expect(adapter.decorated).toHaveLength(6);
  });
});

describe('decorateRefusal through the fetch handler', () => {
  it('decorates a 413 for a body over the limit', async () => {
    const adapter = new DecoratingAdapter();
    const handler = createFetchHandler(routerFor(adapter), { bodyLimitBytes: LIMIT, trustProxy: false });
    const response = await handler(new Request('http://bot.example/test/hook', { method: 'POST', headers: json, body: big }));
    expect(response.status).toBe(413);
    expect(response.headers.get('x-refused-by')).toBe('test widget');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(adapter.received).toHaveLength(0);
  });
});
