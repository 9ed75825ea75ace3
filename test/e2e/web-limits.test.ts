/**
 * The web chat's abuse limits through a real bot: requests per address (X-Forwarded-For only with
 * TRUST_PROXY: the left-most entry with true, counted from the right with a hop count) and per
 * visitor on every web route, new sessions per address, concurrent event streams, and a refused
 * message that is neither queued nor kept.
 *
 * Requests carrying X-Forwarded-For are not "from this machine", so they hold a visitor session
 * (or the operator's WEB_TOKEN, which the limits leave alone: it is the server-to-server key).
 */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import type { TranscriptEntry } from '../../adapters/web/index.js';
import { assistantReplies, startWebBot, testEnv, type WebBot } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

const OPERATOR = 'operator-token-0123456789abcdef';

interface Visitor {
  token: string;
  streamToken: string;
  renewToken: string;
  visitor: string;
}

/** The headers of a request from `address` (as a proxy names it) with `token`, if any. */
function from(address: string | undefined, token?: string): Record<string, string> {
  return { ...(address ? { 'x-forwarded-for': `${address}, 10.0.0.1` } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

async function startSession(web: WebBot, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${web.url}/web/sessions`, { method: 'POST', headers });
}

async function newVisitor(web: WebBot, address?: string): Promise<Visitor> {
  const res = await startSession(web, from(address));
  expect(res.status).toBe(201);
  return (await res.json()) as Visitor;
}

const listConversations = (web: WebBot, headers: Record<string, string>) => fetch(`${web.url}/web/conversations`, { headers });

/** A bot of its own for one test. */
async function withWebBot(env: Record<string, string>, test: (web: WebBot) => Promise<void>): Promise<void> {
  const web = await startWebBot(env);
  try {
    await test(web);
  } finally {
    await web.close();
  }
}

/** parley_rate_limited_total{platform="web",limit} as /metrics shows it (0 while it has no sample). */
async function refusals(web: WebBot, limit: string): Promise<number> {
  const text = await (await fetch(`${web.url}/metrics`)).text();
  const sample = new RegExp(`^parley_rate_limited_total\\{platform="web",limit="${limit}"\\} (\\d+)$`, 'm').exec(text);
  return sample ? Number(sample[1]) : 0;
}

async function expectRateLimited(res: Response): Promise<void> {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(await res.json()).toMatchObject({ error: { code: 'rate_limited' } });
}

describe('requests per address, TRUST_PROXY=false', () => {
  let web: WebBot;
  beforeAll(async () => {
    web = await startWebBot({ WEB_REQUESTS_PER_IP_PER_MINUTE: '5', TRUST_PROXY: 'false' });
  });
  afterAll(() => web.close());

  it('every X-Forwarded-For counts against 127.0.0.1: the 6th request on any route gets 429 with Retry-After', async () => {
    // Two visitors, so neither reaches its own budget: it is the address that runs out.
    const a = await newVisitor(web, '198.51.100.1');
    const b = await newVisitor(web, '198.51.100.2');
    expect((await listConversations(web, from('198.51.100.3', a.token))).status).toBe(200);
    expect((await listConversations(web, from('198.51.100.4', b.token))).status).toBe(200);
    expect((await fetch(`${web.url}/`, { headers: from('198.51.100.5') })).status).toBe(200);
    await expectRateLimited(await listConversations(web, from('198.51.100.6', b.token)));
    // Every route: the pages, the widget and its assets, a new session, a message, a transcript.
    for (const path of ['/', '/web/frame', '/web/widget.js', '/web/assets/chat.js']) await expectRateLimited(await fetch(`${web.url}${path}`, { headers: from('198.51.100.7') }));
    await expectRateLimited(await startSession(web, from('198.51.100.8')));
    await expectRateLimited(await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { ...from('198.51.100.9', a.token), 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) }));
    await expectRateLimited(await fetch(`${web.url}/web/conversations/anything`, { headers: from('198.51.100.10', a.token) }));
    // A bad credential is counted (and refused) too.
    await expectRateLimited(await listConversations(web, from('198.51.100.11', 'v1.forged.1.x')));
  });

  it('requests the HTTP layer refuses before the chat reads them (wrong type, wrong method, too large) count too, once each', async () => {
    await withWebBot({ WEB_REQUESTS_PER_IP_PER_MINUTE: '4', TRUST_PROXY: 'false', BODY_LIMIT_BYTES: '1024' }, async (limited) => {
      const post = (headers: Record<string, string>, body: string, method = 'POST') => fetch(`${limited.url}/web/messages`, { method, headers: { ...from('198.51.100.20'), ...headers }, body });
      expect((await post({ 'content-type': 'text/plain' }, 'hi')).status).toBe(415);
      expect((await post({ 'content-type': 'application/json' }, '{}', 'PUT')).status).toBe(405);
      expect((await post({ 'content-type': 'application/json' }, 'x'.repeat(4096))).status).toBe(413);
      // A bad credential read by the chat itself: counted once, not again as a refusal.
      expect((await post({ 'content-type': 'application/json', authorization: 'Bearer v1.forged.1.x' }, '{"text":"hi"}')).status).toBe(401);
      await expectRateLimited(await post({ 'content-type': 'text/plain' }, 'hi'));
      await expectRateLimited(await fetch(`${limited.url}/web/widget.js`, { headers: from('198.51.100.21') }));
    });
  });

  it("the operator's WEB_TOKEN is not limited", async () => {
    await withWebBot({ WEB_REQUESTS_PER_IP_PER_MINUTE: '2', WEB_TOKEN: OPERATOR }, async (operator) => {
      for (let i = 0; i < 6; i++) expect((await fetch(`${operator.url}/web/conversations/c${i}`, { headers: from('198.51.100.1', OPERATOR) })).status).toBe(200);
    });
  });
});

describe('requests per address, TRUST_PROXY=true', () => {
  let web: WebBot;
  beforeAll(async () => {
    web = await startWebBot({ WEB_REQUESTS_PER_IP_PER_MINUTE: '5', TRUST_PROXY: 'true' });
  });
  afterAll(() => web.close());

  it('each forwarded address has its own budget; the same one is refused on the 6th request', async () => {
    // Address A: two visitors (2 requests), three lists for the first (5); the second visitor's
    // first request is A's 6th.
    const a1 = await newVisitor(web, '198.51.100.1');
    const a2 = await newVisitor(web, '198.51.100.1');
    for (let i = 0; i < 3; i++) expect((await listConversations(web, from('198.51.100.1', a1.token))).status).toBe(200);
    // Address B is untouched by all that.
    const b = await newVisitor(web, '198.51.100.2');
    for (let i = 0; i < 4; i++) expect((await listConversations(web, from('198.51.100.2', b.token))).status).toBe(200);
    await expectRateLimited(await listConversations(web, from('198.51.100.1', a2.token)));
    await expectRateLimited(await listConversations(web, from('198.51.100.2', b.token)));
    // A third address is still fine, and the visitor from A may go on from there (3 of its 5 used).
    expect((await listConversations(web, from('198.51.100.3', a1.token))).status).toBe(200);
  });

  it("opening the chat costs page, style, script and session: the modules chat.js imports are not counted", async () => {
    const address = from('198.51.100.40');
    for (const path of ['/', '/web/assets/chat.css', '/web/assets/chat.js']) expect((await fetch(`${web.url}${path}`, { headers: address })).status, path).toBe(200);
    for (let i = 0; i < 3; i++) {
      for (const name of ['api.js', 'transcript.js', 'markdown.js', 'frame.js']) expect((await fetch(`${web.url}/web/assets/${name}`, { headers: address })).status, name).toBe(200);
    }
    expect((await startSession(web, address)).status).toBe(201);
    // 4 of the 5 counted: the 5th request is taken, the 6th refused, chat.js and an unknown name alike.
    expect((await fetch(`${web.url}/web/assets/chat.js`, { headers: address })).status).toBe(200);
    await expectRateLimited(await fetch(`${web.url}/web/assets/nope.js`, { headers: address }));
    expect((await fetch(`${web.url}/web/assets/api.js`, { headers: address })).status).toBe(200);
  });

  it('a visitor has its own budget wherever it asks from', async () => {
    const v = await newVisitor(web, '203.0.113.1');
    for (let i = 0; i < 5; i++) expect((await listConversations(web, from(`203.0.113.${10 + i}`, v.token))).status).toBe(200);
    await expectRateLimited(await listConversations(web, from('203.0.113.20', v.token)));
  });
});

describe('new sessions per address, TRUST_PROXY=1 (one proxy that appends to X-Forwarded-For)', () => {
  // What nginx's $proxy_add_x_forwarded_for or an AWS ALB passes on: the client's own header, then
  // the address the proxy saw.
  const appended = (spoofed: string, client: string) => ({ 'x-forwarded-for': `${spoofed}, ${client}` });

  it('a client that rotates a made-up left-most entry is still limited by its own address', async () => {
    await withWebBot({ WEB_SESSIONS_PER_IP_PER_MINUTE: '2', TRUST_PROXY: '1' }, async (web) => {
      expect((await startSession(web, appended('1.1.1.1', '203.0.113.9'))).status).toBe(201);
      expect((await startSession(web, appended('1.1.1.2', '203.0.113.9'))).status).toBe(201);
      await expectRateLimited(await startSession(web, appended('1.1.1.3', '203.0.113.9')));
      // Another client, whatever it claims (even the first one's address), has its own budget.
      expect((await startSession(web, appended('203.0.113.9', '198.51.100.4'))).status).toBe(201);
    });
  });
});

describe('bot.fetch (Vercel, Next.js, Deno, Bun) with no client address', () => {
  /** A bot answering through bot.fetch only, its warnings collected. */
  function fetchBot(env: Record<string, string>) {
    const warnings: string[] = [];
    const config = loadConfig({ ...testEnv, WEB_SESSION_SECRET: 'web-limits-session-secret-0123456789abcdef', WEB_SESSIONS_PER_IP_PER_MINUTE: '2', ...env });
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    const bot = createBot({ config, adapters: [webChat()], logger });
    const session = (headers: Record<string, string> = {}) => bot.fetch(new Request('https://chat.example.com/web/sessions', { method: 'POST', headers }));
    return { bot, session, warnings: () => warnings.filter((msg) => msg.includes('client address')) };
  }

  it('TRUST_PROXY off: says once that every visitor shares one budget, naming TRUST_PROXY', async () => {
    const { bot, session, warnings } = fetchBot({ TRUST_PROXY: 'false' });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await session({ 'x-forwarded-for': `203.0.113.${i + 1}` })).status);
      expect(statuses).toEqual([201, 201, 429]);
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatch(/TRUST_PROXY=true/);
    } finally {
      await bot.close();
    }
  });

  it('TRUST_PROXY on: each X-Forwarded-For address has a budget of its own, and nothing is said', async () => {
    const { bot, session, warnings } = fetchBot({ TRUST_PROXY: 'true' });
    try {
      for (let i = 0; i < 3; i++) expect((await session({ 'x-forwarded-for': `203.0.113.${i + 1}` })).status).toBe(201);
      expect((await session({ 'x-forwarded-for': '203.0.113.1' })).status).toBe(201);
      expect((await session({ 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
      expect(warnings()).toEqual([]);
    } finally {
      await bot.close();
    }
  });
});

describe('every refusal is counted, in /metrics and in the console', () => {
  const ADMIN = 'admin-token-0123456789abcdef';

  it('per address, per visitor and per session limit, each under its own name; the overview shows them all', async () => {
    await withWebBot({ WEB_REQUESTS_PER_IP_PER_MINUTE: '3', WEB_SESSIONS_PER_IP_PER_MINUTE: '1', TRUST_PROXY: 'true', ADMIN_TOKEN: ADMIN }, async (web) => {
      // Address A: one session (its 1st request), a second session refused (its 2nd request).
      const visitor = await newVisitor(web, '198.51.100.1');
      await expectRateLimited(await startSession(web, from('198.51.100.1')));
      // The visitor from four other addresses: its 4th request is over its own budget of 3.
      for (const last of [2, 3, 4]) expect((await listConversations(web, from(`198.51.100.${last}`, visitor.token))).status).toBe(200);
      await expectRateLimited(await listConversations(web, from('198.51.100.5', visitor.token)));
      // Address A's 3rd request is taken, its 4th and 5th are not.
      expect((await fetch(`${web.url}/`, { headers: from('198.51.100.1') })).status).toBe(200);
      for (let i = 0; i < 2; i++) await expectRateLimited(await fetch(`${web.url}/`, { headers: from('198.51.100.1') }));
      expect({ ip: await refusals(web, 'ip_requests'), visitor: await refusals(web, 'visitor_requests'), sessions: await refusals(web, 'ip_sessions') }).toEqual({ ip: 2, visitor: 1, sessions: 1 });
      // The console's "Rate-limited" (the last hour, from the shared per-minute counts) has the four.
      const rateLimited = async () => ((await (await fetch(`${web.url}/console/api/overview`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { rateLimited: number }).rateLimited;
      await until(async () => (await rateLimited()) >= 4, 'the overview to count the refusals', 6000);
      expect(await rateLimited()).toBe(4);
    });
  });

  it('a request the HTTP layer refused, then refused over the limit, is counted once', async () => {
    await withWebBot({ WEB_REQUESTS_PER_IP_PER_MINUTE: '1', TRUST_PROXY: 'false' }, async (web) => {
      const post = () => fetch(`${web.url}/web/messages`, { method: 'POST', headers: { ...from('198.51.100.20'), 'content-type': 'text/plain' }, body: 'hi' });
      expect((await post()).status).toBe(415);
      await expectRateLimited(await post());
      expect(await refusals(web, 'ip_requests')).toBe(1);
    });
  });
});

describe('a refusal a website can read', () => {
  it('a 429 to an allowed origin carries its CORS headers and exposes Retry-After', async () => {
    await withWebBot({ WEB_REQUESTS_PER_IP_PER_MINUTE: '1', WEB_ALLOWED_ORIGINS: 'https://shop.example' }, async (web) => {
      const headers = { ...from('198.51.100.1'), origin: 'https://shop.example' };
      expect((await startSession(web, headers)).status).toBe(201);
      const refused = await startSession(web, headers);
      expect(refused.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(refused.headers.get('access-control-expose-headers')).toMatch(/retry-after/);
      await expectRateLimited(refused);
    });
  });

  it("a preflight is answered over the limit too (the browser fails a 429 preflight as 'Failed to fetch'), and costs nothing", async () => {
    await withWebBot({ WEB_REQUESTS_PER_IP_PER_MINUTE: '1', WEB_ALLOWED_ORIGINS: 'https://shop.example' }, async (web) => {
      const headers = { ...from('198.51.100.1'), origin: 'https://shop.example' };
      const preflight = () => fetch(`${web.url}/web/messages`, { method: 'OPTIONS', headers: { ...headers, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      expect((await preflight()).status).toBeLessThan(300);
      expect((await startSession(web, headers)).status).toBe(201); // the preflight did not spend the one request
      await expectRateLimited(await startSession(web, headers));
      const over = await preflight();
      expect(over.status).toBeLessThan(300);
      expect(over.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    });
  });
});

describe('new sessions per address', () => {
  let web: WebBot;
  beforeAll(async () => {
    web = await startWebBot({ WEB_SESSIONS_PER_IP_PER_MINUTE: '2', TRUST_PROXY: 'true' });
  });
  afterAll(() => web.close());

  it('WEB_SESSIONS_PER_IP_PER_MINUTE sessions per address, then 429 with Retry-After', async () => {
    const first = await newVisitor(web, '198.51.100.1');
    await newVisitor(web, '198.51.100.1');
    await expectRateLimited(await startSession(web, from('198.51.100.1')));
    // Renewing counts as well: a script cannot mint sessions by renewing them.
    await expectRateLimited(await startSession(web, from('198.51.100.1', first.token)));
    // and so does renewing with the renew token (a frame on another site whose hour is up)
    expect(first.renewToken).toMatch(/^r1\./);
    await expectRateLimited(await startSession(web, from('198.51.100.1', first.renewToken)));
    // Another address, and the visitor's other requests, are not affected.
    await newVisitor(web, '198.51.100.2');
    expect((await listConversations(web, from('198.51.100.1', first.token))).status).toBe(200);
  });
});

describe('concurrent event streams', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  const open: AbortController[] = [];
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url });
  });
  afterEach(() => {
    for (const controller of open.splice(0)) controller.abort();
  });
  afterAll(async () => {
    await web.close();
    await ai.close();
  });

  /** A visitor with a conversation of its own. */
  async function visitorWithConversation(): Promise<Visitor & { conversation: string }> {
    const visitor = await newVisitor(web);
    const res = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { ...from(undefined, visitor.token), 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello' }) });
    expect(res.status).toBe(202);
    return { ...visitor, conversation: ((await res.json()) as { conversation: string }).conversation };
  }

  /** Open the conversation's event stream (the EventSource way: ?session=); kept open until aborted. */
  async function stream(visitor: Visitor & { conversation: string }): Promise<Response> {
    const controller = new AbortController();
    const res = await fetch(`${web.url}/web/conversations/${visitor.conversation}/events?session=${encodeURIComponent(visitor.streamToken)}`, { signal: controller.signal });
    if (res.status === 200) open.push(controller);
    return Object.assign(res, { close: () => controller.abort() });
  }

  it("a visitor's 4th stream gets 429 too_many_streams; closing one frees a slot", async () => {
    const visitor = await visitorWithConversation();
    const streams = [await stream(visitor), await stream(visitor), await stream(visitor)];
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);
    const counted = await refusals(web, 'visitor_streams');
    const fourth = await stream(visitor);
    expect(fourth.status).toBe(429);
    expect(await refusals(web, 'visitor_streams')).toBe(counted + 1);
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await fourth.json()).toMatchObject({ error: { code: 'too_many_streams' } });
    // Another visitor is not affected.
    expect((await stream(await visitorWithConversation())).status).toBe(200);
    (streams[0] as Response & { close(): void }).close();
    const until = Date.now() + 3000;
    let again = await stream(visitor);
    while (again.status === 429 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      again = await stream(visitor);
    }
    expect(again.status).toBe(200);
    expect(again.headers.get('content-type')).toMatch(/^text\/event-stream/);
  });

  it('an address holds at most 10 streams, whichever visitors open them', async () => {
    const visitors = [];
    for (let i = 0; i < 4; i++) visitors.push(await visitorWithConversation());
    const statuses = [];
    for (const visitor of visitors.slice(0, 3)) for (let i = 0; i < 3; i++) statuses.push((await stream(visitor)).status);
    statuses.push((await stream(visitors[3]!)).status);
    expect(statuses).toEqual(Array(10).fill(200));
    const counted = await refusals(web, 'ip_streams');
    const eleventh = await stream(visitors[3]!);
    expect(eleventh.status).toBe(429);
    expect(await refusals(web, 'ip_streams')).toBe(counted + 1);
    expect(await eleventh.json()).toMatchObject({ error: { code: 'too_many_streams' } });
  });
});

describe('a refused message', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, WEB_TOKEN: OPERATOR, WEB_REQUESTS_PER_IP_PER_MINUTE: '3' });
  });
  afterAll(async () => {
    await web.close();
    await ai.close();
  });

  const send = (token: string, body: Record<string, string>) =>
    fetch(`${web.url}/web/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const transcript = async (conversation: string) =>
    ((await (await fetch(`${web.url}/web/conversations/${conversation}`, { headers: from(undefined, OPERATOR) })).json()) as { messages: TranscriptEntry[] }).messages;
  async function answered(conversation: string, count: number): Promise<void> {
    const until = Date.now() + 8000;
    while (assistantReplies(await transcript(conversation)).length < count) {
      if (Date.now() > until) throw new Error(`${conversation} never had ${count} answers`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('is neither queued nor in the transcript, and the same message is taken once the limit allows it', async () => {
    const visitor = await newVisitor(web);
    const first = await send(visitor.token, { text: 'first', id: 'm1' });
    expect(first.status).toBe(202);
    const { conversation } = (await first.json()) as { conversation: string };
    await answered(conversation, 1);
    expect((await send(visitor.token, { conversation, text: 'second', id: 'm2' })).status).toBe(202);
    await expectRateLimited(await send(visitor.token, { conversation, text: 'third', id: 'm3' }));
    await answered(conversation, 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await transcript(conversation)).map((e) => [e.role, e.text])).toEqual([
      ['user', 'first'],
      ['assistant', 'echo: first'],
      ['user', 'second'],
      ['assistant', 'echo: second'],
    ]);
    expect(ai.calls.map(lastUserText)).toEqual(['first', 'second']);
    // Sent again (here by the operator, whom the limit lets through), the refused message's id
    // was never claimed: it is answered, once.
    expect((await send(OPERATOR, { conversation, text: 'third', id: 'm3' })).status).toBe(202);
    await answered(conversation, 3);
    expect(ai.calls.map(lastUserText)).toEqual(['first', 'second', 'third']);
  });
});
