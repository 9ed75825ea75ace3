/**
 * Runs every example in examples/ for real: each starts on a free port (in this process), takes a
 * web chat message through the host framework, answers it, and leaves the host app's own routes,
 * body parsing and 404 handling alone. The serverless handler is called with plain Requests.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Before any example is imported or started: quiet logs, no AI provider (so the reply is
// parley's deterministic notice), and the defaults the examples rely on (loopback, no token).
process.env.LOG_LEVEL = 'silent';
for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'MODE', 'HOST', 'WEB_TOKEN', 'WEB_CHAT', 'PUBLIC_URL', 'TRUST_PROXY']) {
  delete process.env[name];
}

interface Running {
  url: string;
  close(): Promise<void>;
}

interface Entry {
  role: 'user' | 'assistant';
  text: string;
  at: string;
  kind?: string;
}

interface HostApp {
  name: string;
  load(): Promise<{ start(port?: number): Promise<Running> }>;
  /** The app's own GET /hello answer. */
  hello: string;
  /** Whether the app has its own JSON API (POST /api/echo) behind its own body parser. */
  jsonApi: boolean;
  /** What the host framework's own 404 looks like (so we know parley passed the request on). */
  notFoundBody(body: string): void;
}

const hostApps: HostApp[] = [
  {
    name: 'express',
    load: () => import('../../examples/express.js'),
    hello: 'hello from express',
    jsonApi: true,
    notFoundBody: (body) => expect(body).toContain('Cannot GET /nope'),
  },
  {
    name: 'fastify',
    load: () => import('../../examples/fastify.js'),
    hello: 'hello from fastify',
    jsonApi: true,
    notFoundBody: (body) => expect(JSON.parse(body)).toMatchObject({ statusCode: 404, message: 'Route GET:/nope not found' }),
  },
  {
    name: 'hono',
    load: () => import('../../examples/hono.js'),
    hello: 'hello from hono',
    jsonApi: true,
    notFoundBody: (body) => expect(body).toBe('404 Not Found'),
  },
  {
    name: 'http',
    load: () => import('../../examples/http.js'),
    hello: 'hello from node:http',
    jsonApi: false,
    notFoundBody: (body) => expect(body).toBe(''),
  },
];

const NOTICE = '[parley] No AI provider configured';

function postMessage(base: string, conversation: string, text: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/web/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ conversation, text }),
  });
}

async function transcript(get: (path: string) => Promise<Response>, conversation: string): Promise<Entry[]> {
  const res = await get(`/web/conversations/${encodeURIComponent(conversation)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: Entry[] }).messages;
}

/** Poll the transcript until the assistant has answered (the queue answers after the 202). */
async function waitForReply(get: (path: string) => Promise<Response>, conversation: string, timeoutMs = 5000): Promise<Entry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = await transcript(get, conversation);
    if (messages.some((m) => m.role === 'assistant') || Date.now() > deadline) return messages;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function expectAnswered(messages: Entry[], text: string): void {
  expect(messages).toHaveLength(2);
  expect(messages[0]).toMatchObject({ role: 'user', text });
  // With no provider, parley's notice stands in for the model's answer.
  expect(messages[1]).toMatchObject({ role: 'assistant', kind: 'notice' });
  expect(messages[1]?.text).toContain(NOTICE);
  expect(messages[1]?.text).toContain(`You said: "${text}"`);
}

for (const host of hostApps) describe(`examples/${host.name}.ts`, () => {
  let app: Running;
  const get = (path: string) => fetch(`${app.url}${path}`);

  beforeAll(async () => {
    const example = await host.load();
    app = await example.start(0);
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('takes a web chat message through the host app and answers it', async () => {
    const conversation = `${host.name}-chat`;
    const text = `hello parley from ${host.name}`;
    const res = await postMessage(app.url, conversation, text);
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(/\S/);

    expectAnswered(await waitForReply(get, conversation), text);
  });

  it('reads the raw body itself, whatever body parser the host app has', async () => {
    // parley's own error shape proves it, not the host's JSON parser, handled the bytes.
    const res = await fetch(`${app.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'malformed_body', message: expect.any(String) } });
  });

  it('serves the operational routes and the chat page', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });

    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<title>parley</title>');
  });

  it("leaves the host app's own routes working", async () => {
    const hello = await get('/hello');
    expect(hello.status).toBe(200);
    expect(hello.headers.get('x-request-id')).toBeNull();
    expect(await hello.json()).toEqual({ message: host.hello });

    if (host.jsonApi) {
      // The app's own JSON parser still parses the app's own API.
      const echo = await fetch(`${app.url}/api/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ order: 42, items: ['a', 'b'] }),
      });
      expect(echo.status).toBe(200);
      expect(await echo.json()).toEqual({ received: { order: 42, items: ['a', 'b'] } });
    }
  });

  it('tells how to serve the chat off loopback with what works: WEB_SESSION_SECRET (WEB_TOKEN alone leaves it 503)', async () => {
    const source = await readFile(new URL(`../../examples/${host.name}.ts`, import.meta.url), 'utf8');
    expect(source).toMatch(/To serve it to other\s+\/\/ machines[^.]*set WEB_SESSION_SECRET/);
    expect(source).not.toMatch(/set WEB_TOKEN otherwise/);
  });

  it('passes unknown paths on to the host app', async () => {
    const res = await get('/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBeNull(); // parley stamps every answer of its own
    host.notFoundBody(await res.text());
  });
});

describe('examples/serverless.ts', () => {
  type Serverless = typeof import('../../examples/serverless.js');
  let example: Serverless;
  let local: Running;
  // A function gets no client address, so the web chat there always needs its token.
  const token = 'serverless-example-token';
  const auth = { authorization: `Bearer ${token}` };
  const call = (path: string, init: RequestInit = {}) =>
    example.default.fetch(new Request(`http://127.0.0.1${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } }));

  beforeAll(async () => {
    process.env.WEB_TOKEN = token;
    example = await import('../../examples/serverless.js');
    delete process.env.WEB_TOKEN;
    local = await example.start(0);
  });
  afterAll(async () => {
    await local?.close(); // closes the bot too
  });

  it("its audit-table sketch records the text the user got (ctx.reply's), not the model's", async () => {
    // On a retry ctx.reply finishes an answer begun before, so the model's new text is not what was shown.
    const source = await readFile(new URL('../../examples/serverless.ts', import.meta.url), 'utf8');
    expect(source).toMatch(/const shown = await ctx\.reply\(result\.text\)/);
    expect(source).not.toMatch(/(text|answer): result\.text/);
  });

  it('is configured for direct mode', () => {
    expect(example.bot.config.mode).toBe('direct');
    expect(example.default.fetch).toBe(example.bot.fetch);
  });

  it('has the reply in the transcript as soon as the POST returns', async () => {
    const text = 'hello parley from a function';
    const res = await call('/web/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ conversation: 'fn-chat', text }),
    });
    expect(res.status).toBe(202);
    // No polling: direct mode answered inside the request (the slow-answer test below shows
    // it is not just a fast queue).
    expectAnswered(await transcript(call, 'fn-chat'), text);
  });

  it('answers health checks and 404s what it does not serve', async () => {
    const health = await call('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const missing = await call('/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('serves the same handler locally over HTTP', async () => {
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const text = 'hello parley over http';
    const res = await postMessage(local.url, 'fn-local', text, auth);
    expect(res.status).toBe(202);
    expectAnswered(await transcript((path) => fetch(`${local.url}${path}`, { headers: auth }), 'fn-local'), text);
  });

  it('waits for a slow answer instead of acknowledging first', async () => {
    // Replace the answer with a slow one: in queue mode the POST would return before it exists.
    example.bot.onMessage(async (message, context) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await context.reply(`slowly: ${message.text}`);
    });
    const started = Date.now();
    const res = await call('/web/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ conversation: 'fn-slow', text: 'take your time' }),
    });
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const messages = await transcript(call, 'fn-slow');
    expect(messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'take your time'],
      ['assistant', 'slowly: take your time'],
    ]);
  });
});
