/**
 * The web chat's abuse limits in memory: the client's address, requests per address and per
 * visitor, new sessions per address, concurrent event streams, and the route wrapper.
 */
import { describe, expect, it } from 'vitest';
import { addressKey, clientAddress, limitedRoute, releasing, WebLimits, type WebLimitOptions } from '../../adapters/web/limits.js';
import type { HttpRequest, HttpResponse, Route } from '../../src/adapter.js';
import { loadConfig } from '../../src/config.js';
import { createMemoryLimiter } from '../../src/limit/index.js';

let limits = 0;

/** WebLimits over memory limiters of its own (as one bot's adapter context gives them). */
function webLimits(env: Record<string, string> = {}, options: WebLimitOptions = {}): WebLimits {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  const prefix = `web-limits-test-${++limits}`;
  const limiter = (name: string, points: number, durationSeconds = 60) =>
    points > 0 ? createMemoryLimiter({ points, durationSeconds, keyPrefix: `${prefix}-${name}` }) : undefined;
  return new WebLimits({ config, limiter }, options);
}

function request(remoteAddress: string | undefined, headers: Record<string, string> = {}, path = '/web/conversations/c1'): HttpRequest {
  return { method: 'GET', url: new URL(`http://127.0.0.1${path}`), headers, body: Buffer.alloc(0), remoteAddress };
}

const visitor = (id: string) => ({ kind: 'visitor' as const, visitor: id });

const errorOf = (response: HttpResponse | undefined) => (response ? (JSON.parse(String(response.body)) as { error: { code: string; message: string } }).error : undefined);

/** Call `check` `times` times; the answers, undefined where let through. */
async function repeat(times: number, check: () => Promise<HttpResponse | undefined>): Promise<Array<HttpResponse | undefined>> {
  const answers = [];
  for (let i = 0; i < times; i++) answers.push(await check());
  return answers;
}

describe('clientAddress', () => {
  it('is the connection address, an IPv4-mapped one read as IPv4', () => {
    expect(clientAddress(request('203.0.113.7'), false)).toBe('203.0.113.7');
    expect(clientAddress(request('::ffff:203.0.113.7'), false)).toBe('203.0.113.7');
    expect(clientAddress(request('2001:db8::1'), false)).toBe('2001:db8::1');
    expect(clientAddress(request(undefined), false)).toBe('unknown');
  });

  it('ignores X-Forwarded-For unless the proxy is trusted', () => {
    expect(clientAddress(request('127.0.0.1', { 'x-forwarded-for': '198.51.100.1' }), false)).toBe('127.0.0.1');
  });

  it('with a trusted proxy, is the left-most X-Forwarded-For entry', () => {
    const via = (xff: string) => clientAddress(request('10.0.0.2', { 'x-forwarded-for': xff }), true);
    expect(via('198.51.100.1')).toBe('198.51.100.1');
    expect(via(' 198.51.100.1 , 10.0.0.9, 10.0.0.2')).toBe('198.51.100.1');
    expect(via('::ffff:198.51.100.1')).toBe('198.51.100.1');
    expect(via('198.51.100.1:4711')).toBe('198.51.100.1');
    expect(via('[2001:DB8::5]:4711, 10.0.0.9')).toBe('2001:db8::5');
    // Not an address: the connection's counts instead.
    expect(via('unknown, 10.0.0.9')).toBe('10.0.0.2');
    expect(via('')).toBe('10.0.0.2');
    expect(clientAddress(request('::ffff:10.0.0.2'), true)).toBe('10.0.0.2');
  });

  it('with a hop count N, is the N-th X-Forwarded-For entry from the right: what a client writes itself is ignored', () => {
    const via = (xff: string | undefined, hops: number) => clientAddress(request('10.0.0.2', xff === undefined ? {} : { 'x-forwarded-for': xff }), hops);
    // One proxy that appends: the client sent "1.1.1.1, 2.2.2.2", the proxy added the address it saw.
    expect(via('1.1.1.1, 2.2.2.2, 198.51.100.1', 1)).toBe('198.51.100.1');
    expect(via('6.6.6.6, 198.51.100.1', 1)).toBe('198.51.100.1');
    // Two proxies (a CDN, then a load balancer that appends the CDN's address).
    expect(via('1.1.1.1, 198.51.100.1, 10.0.0.9', 2)).toBe('198.51.100.1');
    expect(via('1.1.1.1, 198.51.100.1, 10.0.0.9', 1)).toBe('10.0.0.9');
    // Fewer entries than hops: the left-most.
    expect(via('198.51.100.1, 10.0.0.9', 3)).toBe('198.51.100.1');
    expect(via(' [2001:DB8::5]:4711 ', 1)).toBe('2001:db8::5');
    // No header, or not an address where the proxy's entry should be: the connection's.
    expect(via(undefined, 1)).toBe('10.0.0.2');
    expect(via('198.51.100.1, unknown', 1)).toBe('10.0.0.2');
    // 0 trusts nothing, as false does.
    expect(via('198.51.100.1', 0)).toBe('10.0.0.2');
  });
});

describe('addressKey', () => {
  it('counts IPv4 addresses one by one and IPv6 addresses by their /64', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:DB8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('unknown')).toBe('unknown');
  });
});

describe('WebLimits.checkRequest', () => {
  it('lets WEB_REQUESTS_PER_IP_PER_MINUTE through per address, then answers 429 rate_limited with Retry-After', async () => {
    const limits = webLimits({ WEB_REQUESTS_PER_IP_PER_MINUTE: '3' });
    const answers = await repeat(4, () => limits.checkRequest(request('203.0.113.7')));
    expect(answers.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    const refused = answers[3]!;
    expect(refused.status).toBe(429);
    expect(errorOf(refused)?.code).toBe('rate_limited');
    expect(refused.headers?.['content-type']).toMatch(/^application\/json/);
    const retryAfter = Number(refused.headers?.['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(55);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(errorOf(refused)?.message).toContain(`retry in ${retryAfter} s`);
    // Another address has its own budget.
    expect(await limits.checkRequest(request('203.0.113.8'))).toBeUndefined();
  });

  it('defaults to 120 a minute per address', async () => {
    const limits = webLimits();
    const answers = await repeat(121, () => limits.checkRequest(request('203.0.113.7')));
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(answers[120]?.status).toBe(429);
  });

  it('without TRUST_PROXY, every X-Forwarded-For counts against the connection address', async () => {
    const limits = webLimits({ WEB_REQUESTS_PER_IP_PER_MINUTE: '2' });
    const answers = await repeat(3, async () => limits.checkRequest(request('127.0.0.1', { 'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 250)}` })));
    expect(answers.map((a) => a?.status)).toEqual([undefined, undefined, 429]);
  });

  it('with TRUST_PROXY, each forwarded address has its own budget', async () => {
    const limits = webLimits({ WEB_REQUESTS_PER_IP_PER_MINUTE: '2', TRUST_PROXY: 'true' });
    const from = (address: string) => limits.checkRequest(request('127.0.0.1', { 'x-forwarded-for': `${address}, 10.0.0.1` }));
    expect((await repeat(2, () => from('198.51.100.1'))).every((a) => a === undefined)).toBe(true);
    expect((await repeat(2, () => from('198.51.100.2'))).every((a) => a === undefined)).toBe(true);
    expect((await from('198.51.100.1'))?.status).toBe(429);
    expect((await from('198.51.100.2'))?.status).toBe(429);
  });

  it('one IPv6 /64 shares one budget', async () => {
    const limits = webLimits({ WEB_REQUESTS_PER_IP_PER_MINUTE: '2' });
    expect(await limits.checkRequest(request('2001:db8:0:1::1'))).toBeUndefined();
    expect(await limits.checkRequest(request('2001:db8:0:1::2'))).toBeUndefined();
    expect((await limits.checkRequest(request('2001:db8:0:1:abcd::9')))?.status).toBe(429);
    expect(await limits.checkRequest(request('2001:db8:0:2::1'))).toBeUndefined();
  });

  it('a visitor has the same budget again, wherever it asks from', async () => {
    const limits = webLimits({ WEB_REQUESTS_PER_IP_PER_MINUTE: '3', TRUST_PROXY: 'true' });
    const from = (address: string, id?: string) => limits.checkRequest(request('10.0.0.1', { 'x-forwarded-for': address }), id ? visitor(id) : undefined);
    expect(await from('198.51.100.1', 'visitor-a')).toBeUndefined();
    expect(await from('198.51.100.2', 'visitor-a')).toBeUndefined();
    expect(await from('198.51.100.3', 'visitor-a')).toBeUndefined();
    const refused = await from('198.51.100.4', 'visitor-a');
    expect(refused?.status).toBe(429);
    expect(errorOf(refused)?.message).toMatch(/visitor/);
    expect(refused?.headers?.['retry-after']).toMatch(/^\d+$/);
    // Another visitor, and the same address without a visitor, are not affected.
    expect(await from('198.51.100.4', 'visitor-b')).toBeUndefined();
    expect(await from('198.51.100.1')).toBeUndefined();
  });

  it('0 turns the request limit off', async () => {
    const limits = webLimits({ WEB_REQUESTS_PER_IP_PER_MINUTE: '0' });
    const answers = await repeat(300, () => limits.checkRequest(request('203.0.113.7'), visitor('visitor-a')));
    expect(answers.every((a) => a === undefined)).toBe(true);
  });

  it("the adapter's own options win over the configuration", async () => {
    const limits = webLimits({ WEB_REQUESTS_PER_IP_PER_MINUTE: '100', TRUST_PROXY: 'true' }, { requestsPerIpPerMinute: 1, trustProxy: false });
    expect(await limits.checkRequest(request('127.0.0.1', { 'x-forwarded-for': '198.51.100.1' }))).toBeUndefined();
    expect((await limits.checkRequest(request('127.0.0.1', { 'x-forwarded-for': '198.51.100.2' })))?.status).toBe(429);
  });
});

describe('WebLimits.checkNewSession', () => {
  it('lets WEB_SESSIONS_PER_IP_PER_MINUTE new sessions through per address, apart from the request budget', async () => {
    const limits = webLimits({ WEB_SESSIONS_PER_IP_PER_MINUTE: '2', WEB_REQUESTS_PER_IP_PER_MINUTE: '2' });
    const answers = await repeat(3, () => limits.checkNewSession(request('203.0.113.7')));
    expect(answers.map((a) => a?.status)).toEqual([undefined, undefined, 429]);
    expect(errorOf(answers[2])?.code).toBe('rate_limited');
    expect(Number(answers[2]?.headers?.['retry-after'])).toBeGreaterThan(0);
    expect(await limits.checkNewSession(request('203.0.113.8'))).toBeUndefined();
    expect(await limits.checkRequest(request('203.0.113.7'))).toBeUndefined();
  });

  it('defaults to 20 a minute', async () => {
    const limits = webLimits();
    const answers = await repeat(21, () => limits.checkNewSession(request('203.0.113.7')));
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(answers[20]?.status).toBe(429);
  });
});

describe('WebLimits.openStream', () => {
  it('allows 3 streams per visitor; the 4th is a 429 too_many_streams until one is released', () => {
    const limits = webLimits();
    const slots = [1, 2, 3].map(() => limits.openStream('203.0.113.7', 'visitor-a'));
    expect(slots.every((s) => s.allowed)).toBe(true);
    const fourth = limits.openStream('203.0.113.7', 'visitor-a');
    expect(fourth.allowed).toBe(false);
    if (fourth.allowed) return;
    expect(fourth.response.status).toBe(429);
    expect(errorOf(fourth.response)?.code).toBe('too_many_streams');
    // Another visitor on the same address still gets one.
    expect(limits.openStream('203.0.113.7', 'visitor-b').allowed).toBe(true);
    const first = slots[0]!;
    if (first.allowed) {
      first.release();
      first.release();
    }
    expect(limits.openStreams({ visitor: 'visitor-a' })).toBe(2);
    expect(limits.openStream('203.0.113.7', 'visitor-a').allowed).toBe(true);
    // Released twice, counted once: the visitor is full again.
    expect(limits.openStream('203.0.113.7', 'visitor-a').allowed).toBe(false);
  });

  it('allows 10 streams per address, whoever holds them', () => {
    const limits = webLimits();
    const slots = Array.from({ length: 10 }, (_, i) => limits.openStream('203.0.113.7', i % 2 ? `visitor-${i}` : undefined));
    expect(slots.every((s) => s.allowed)).toBe(true);
    const over = limits.openStream('203.0.113.7', 'visitor-new');
    expect(over.allowed).toBe(false);
    if (!over.allowed) expect(errorOf(over.response)?.message).toMatch(/address/);
    expect(limits.openStream('203.0.113.8').allowed).toBe(true);
    for (const slot of slots) if (slot.allowed) slot.release();
    expect(limits.openStreams({ address: '203.0.113.7' })).toBe(0);
    expect(limits.openStreams()).toBe(1);
  });

  it('takes its numbers from the options', () => {
    const limits = webLimits({}, { streamsPerVisitor: 1, streamsPerAddress: 2 });
    expect(limits.openStream('203.0.113.7', 'v').allowed).toBe(true);
    expect(limits.openStream('203.0.113.7', 'v').allowed).toBe(false);
    expect(limits.openStream('203.0.113.7').allowed).toBe(true);
    expect(limits.openStream('203.0.113.7').allowed).toBe(false);
  });
});

describe('releasing', () => {
  async function* chunks(count: number, fail = false): AsyncGenerator<string> {
    for (let i = 0; i < count; i++) yield `chunk ${i}`;
    if (fail) throw new Error('broken');
  }
  /** Yields once, then waits (as an idle SSE stream does between heartbeats). */
  async function* idle(): AsyncGenerator<string> {
    yield 'first';
    await new Promise((resolve) => setTimeout(resolve, 300));
    yield 'never';
  }

  it('releases when the stream ends, once', async () => {
    let released = 0;
    const seen = [];
    for await (const chunk of releasing(chunks(2), () => released++)) seen.push(chunk);
    expect(seen).toEqual(['chunk 0', 'chunk 1']);
    expect(released).toBe(1);
  });

  it('releases when the stream fails', async () => {
    let released = 0;
    await expect(async () => {
      for await (const _ of releasing(chunks(1, true), () => released++));
    }).rejects.toThrow('broken');
    expect(released).toBe(1);
  });

  it('releases at once when the client closes, even while the generator waits between chunks', async () => {
    let released = 0;
    const iterator = releasing(idle(), () => released++)[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 'first' });
    void iterator.next();
    expect(await iterator.return!()).toEqual({ done: true, value: undefined });
    expect(released).toBe(1);
  });

  it('releases when closed before the first chunk', async () => {
    let released = 0;
    const iterator = releasing(idle(), () => released++)[Symbol.asyncIterator]();
    await iterator.return!();
    expect(released).toBe(1);
  });
});

describe('WebLimits.limited', () => {
  const ok: Route = { method: 'GET', path: '/web/frame', handle: async () => ({ status: 200, body: 'frame' }) };

  it('answers the route until the address is over, then 429 without calling it', async () => {
    const limits = webLimits({ WEB_REQUESTS_PER_IP_PER_MINUTE: '2' });
    let calls = 0;
    const route = limits.limited({ ...ok, handle: async (r) => (calls++, ok.handle(r)) });
    expect(route).toMatchObject({ method: 'GET', path: '/web/frame' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await route.handle(request('203.0.113.7', {}, '/web/frame'))).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(calls).toBe(2);
  });

  it('counts the visitor that askerOf names, and leaves the operator alone', async () => {
    const limits = webLimits({ WEB_REQUESTS_PER_IP_PER_MINUTE: '1', TRUST_PROXY: 'true' });
    const route = limits.limited(ok, async (r) => (r.headers.authorization === 'operator' ? { kind: 'operator' } : r.headers.authorization ? visitor(r.headers.authorization) : undefined));
    const as = (address: string, who?: string) => route.handle(request('10.0.0.1', { 'x-forwarded-for': address, ...(who ? { authorization: who } : {}) }, '/web/frame'));
    expect((await as('198.51.100.1', 'v1')).status).toBe(200);
    expect((await as('198.51.100.2', 'v1')).status).toBe(429);
    expect((await as('198.51.100.3', 'v2')).status).toBe(200);
    expect((await as('198.51.100.3')).status).toBe(429);
    expect((await as('198.51.100.3', 'operator')).status).toBe(200);
  });

  it('limitedRoute finds its check per request (limits built after the routes)', async () => {
    let refuse = false;
    const route = limitedRoute(ok, async () => (refuse ? { status: 429 } : undefined));
    expect((await route.handle(request('203.0.113.7'))).status).toBe(200);
    refuse = true;
    expect((await route.handle(request('203.0.113.7'))).status).toBe(429);
  });
});

describe('who is limited', () => {
  it('the operator and the no-setup local chat are not limited; visitors and requests proving nothing are', async () => {
    const limits = webLimits({ WEB_REQUESTS_PER_IP_PER_MINUTE: '1', WEB_SESSIONS_PER_IP_PER_MINUTE: '1' });
    const at = request('127.0.0.1');
    for (let i = 0; i < 5; i++) {
      expect(await limits.checkRequest(at, { kind: 'operator' })).toBeUndefined();
      expect(await limits.checkRequest(at, { kind: 'local' })).toBeUndefined();
      expect(await limits.checkNewSession(at, { kind: 'local' })).toBeUndefined();
    }
    expect(await limits.checkRequest(at)).toBeUndefined();
    expect((await limits.checkRequest(at, visitor('v1')))?.status).toBe(429);
    expect(await limits.checkNewSession(at)).toBeUndefined();
    expect((await limits.checkNewSession(at))?.status).toBe(429);
  });
});

describe('WebLimits.boundStream', () => {
  async function* events(): AsyncGenerator<string> {
    yield 'data: {}\n\n';
  }
  const sse = () => ({ status: 200, headers: { 'content-type': 'text/event-stream' }, stream: events() });

  it("holds a visitor's slot until the stream is done, and refuses the one too many", async () => {
    const limits = webLimits({}, { streamsPerVisitor: 1 });
    const at = request('203.0.113.7');
    const first = limits.boundStream(at, visitor('v1'), sse());
    expect(first.status).toBe(200);
    expect(limits.openStreams({ visitor: 'v1' })).toBe(1);
    const second = limits.boundStream(at, visitor('v1'), sse());
    expect(second.status).toBe(429);
    expect(errorOf(second)?.code).toBe('too_many_streams');
    const chunks = [];
    for await (const chunk of first.stream!) chunks.push(chunk);
    expect(chunks).toEqual(['data: {}\n\n']);
    expect(limits.openStreams()).toBe(0);
    expect(limits.boundStream(at, visitor('v1'), sse()).status).toBe(200);
  });

  it('counts a stream without a visitor per address, and leaves the operator and local ones alone', () => {
    const limits = webLimits({}, { streamsPerAddress: 1 });
    const at = request('::ffff:203.0.113.7');
    expect(limits.boundStream(at, { kind: 'operator' }, sse()).status).toBe(200);
    expect(limits.boundStream(at, { kind: 'local' }, sse()).status).toBe(200);
    expect(limits.openStreams()).toBe(0);
    expect(limits.boundStream(at, undefined, sse()).status).toBe(200);
    expect(limits.openStreams({ address: '203.0.113.7' })).toBe(1);
    expect(limits.boundStream(at, visitor('v2'), sse()).status).toBe(429);
  });
});
