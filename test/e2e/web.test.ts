import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { webChat } from '../../adapters/web/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { assistantReplies, startWebBot, testEnv, type WebBot } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

describe('web chat, end to end through the whole pipeline', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, BODY_LIMIT_BYTES: '2048' });
  });
  afterAll(async () => {
    await web.close();
    await ai.close();
  });

  it('acknowledges with 202 and posts the AI reply to the transcript', async () => {
    const res = await web.post('e2e-1', 'hello there');
    expect(res.status).toBe(202);
    expect(((await res.json()) as { id: string }).id).toMatch(/.+/);
    const entries = await web.waitFor('e2e-1', (e) => assistantReplies(e).length === 1);
    expect(entries.map((e) => [e.role, e.text])).toEqual([
      ['user', 'hello there'],
      ['assistant', 'echo: hello there'],
    ]);
  });

  it('the README documents every field of a transcript entry that GET /web/conversations/<id> returns', async () => {
    await web.post('e2e-fields', 'which fields?');
    const entries = await web.waitFor('e2e-fields', (e) => assistantReplies(e).length === 1);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const row = readme.split('\n').find((line) => line.startsWith('| `GET /web/conversations/<id>` |'))!;
    const fields = new Set(entries.flatMap((entry) => Object.keys(entry)));
    expect(fields).toContain('model');
    for (const field of fields) expect(row).toContain(`"${field}"`);
  });

  it('sends the conversation history to the AI on the next turn', async () => {
    await web.post('e2e-2', 'first');
    await web.waitFor('e2e-2', (e) => assistantReplies(e).length === 1);
    await web.post('e2e-2', 'second');
    await web.waitFor('e2e-2', (e) => assistantReplies(e).length === 2);
    const last = ai.calls.at(-1)!.body.messages.map((m) => [m.role, m.content]);
    expect(last.slice(1)).toEqual([
      ['user', 'first'],
      ['assistant', 'echo: first'],
      ['user', 'second'],
    ]);
  });

  it('answers a redelivered message (same id) once', async () => {
    const first = await web.post('e2e-3', 'only once', { id: 'client-msg-1' });
    const again = await web.post('e2e-3', 'only once', { id: 'client-msg-1' });
    expect([first.status, again.status]).toEqual([202, 202]);
    await web.waitFor('e2e-3', (e) => assistantReplies(e).length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(assistantReplies(await web.transcript('e2e-3'))).toHaveLength(1);
  });

  it('two messages whose conversation and id join to the same text (a.b + 1, a + b.1) are two messages, each answered', async () => {
    expect((await web.post('dotted.smithX', 'first of two', { id: '1' })).status).toBe(202);
    expect((await web.post('dotted', 'second of two', { id: 'smithX.1' })).status).toBe(202);
    await web.waitFor('dotted.smithX', (e) => assistantReplies(e).length === 1);
    const other = await web.waitFor('dotted', (e) => assistantReplies(e).length === 1);
    expect(assistantReplies(other).map((e) => e.text)).toEqual(['echo: second of two']);
  });

  it('answers a first message (no conversation yet) sent again with its id once, in the one conversation it started', async () => {
    const send = (id = 'client-first-message-0001') =>
      fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'first of all', id }) });
    const first = (await (await send()).json()) as { conversation: string };
    const again = (await (await send()).json()) as { conversation: string };
    expect(again.conversation).toBe(first.conversation);
    await web.waitFor(first.conversation, (e) => assistantReplies(e).length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const entries = await web.transcript(first.conversation);
    expect(entries.map((e) => e.role)).toEqual(['user', 'assistant']);
    expect(ai.calls.filter((c) => JSON.stringify(c.body).includes('first of all'))).toHaveLength(1);
    // A short id (a client numbering each conversation's messages from 1) starts a new conversation each time.
    const one = (await (await send('1')).json()) as { conversation: string };
    const two = (await (await send('1')).json()) as { conversation: string };
    expect(two.conversation).not.toBe(one.conversation);
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await web.post('e2e-4', 'x'.repeat(4096));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('refuses malformed JSON with 400, a wrong content type with 415, a wrong method with 405', async () => {
    const malformed = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"conversation":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'malformed_body' } });
    const wrongType = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(wrongType.status).toBe(415);
    const wrongMethod = await fetch(`${web.url}/web/messages`, { method: 'PUT', body: '{}' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, OPTIONS');
    const missing = await fetch(`${web.url}/nowhere`);
    expect(missing.status).toBe(404);
  });

  it('serves the chat page, health, readiness and Prometheus metrics', async () => {
    const page = await fetch(`${web.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('id="messages"');
    expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${web.url}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { store: 'ok', queue: 'ok' } });
    const metrics = await (await fetch(`${web.url}/metrics`)).text();
    expect(metrics).toMatch(/parley_webhooks_received_total\{platform="web"\} \d+/);
    expect(metrics).toMatch(/parley_replies_sent_total\{platform="web",kind="answer"\} \d+/);
    expect(metrics).toMatch(/parley_ai_tokens_total\{model="gpt-4o-mini",direction="input"\} \d+/);
    expect(metrics).toContain('parley_webhooks_rejected_total{platform="web",reason="malformed_body"} 1');
  });

  it('streams the transcript as server-sent events', async () => {
    await web.post('e2e-sse', 'stream me');
    await web.waitFor('e2e-sse', (e) => assistantReplies(e).length === 1);
    const controller = new AbortController();
    const res = await fetch(`${web.url}/web/conversations/e2e-sse/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    controller.abort();
    const event = new TextDecoder().decode(value);
    expect(event.startsWith('data: ')).toBe(true);
    expect(JSON.parse(event.slice(6)).messages.map((m: { text: string }) => m.text)).toEqual(['stream me', 'echo: stream me']);
  });
});

describe('web chat: a conversation deleted or left while it is busy', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  beforeAll(async () => {
    ai = await startFakeOpenAi((call) => ({ text: 'a slow answer', delayMs: lastUserText(call).includes('slowly') ? 400 : 0 }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url });
  });
  afterAll(async () => {
    await web.close();
    await ai.close();
  });

  it('an answer arriving after the visitor deleted the conversation does not bring it back', async () => {
    expect((await web.post('deleted-while-busy', 'answer slowly please')).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the AI is on it
    expect((await fetch(`${web.url}/web/conversations/deleted-while-busy`, { method: 'DELETE' })).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 700)); // past the answer
    expect(ai.calls.length).toBeGreaterThan(0);
    expect(await web.transcript('deleted-while-busy')).toEqual([]);
  });

  it('an event stream the client left stops reading the transcript at once', async () => {
    await web.post('left-stream', 'hi');
    await web.waitFor('left-stream', (e) => e.some((entry) => entry.role === 'assistant'));
    let reads = 0;
    const listRange = web.bot.store.listRange.bind(web.bot.store);
    web.bot.store.listRange = (key, start, stop) => {
      if (key.endsWith(':left-stream')) reads++;
      return listRange(key, start, stop);
    };
    const abort = new AbortController();
    const res = await fetch(`${web.url}/web/conversations/left-stream/events`, { signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read(); // the transcript, at once
    abort.abort();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const afterLeaving = reads;
    await new Promise((resolve) => setTimeout(resolve, 1000)); // four polls' worth
    expect(reads).toBe(afterLeaving);
    web.bot.store.listRange = listRange;
  });
});

describe('web chat event streams over a long life', () => {
  it("leave nothing behind on the bot's lifelong closing signal once they end (no AbortSignal.any, which Node 20 never lets go of)", async () => {
    let closing: AbortSignal | undefined;
    const adapter = webChat({ page: true });
    const start = adapter.start!.bind(adapter);
    adapter.start = (context) => ((closing = context.closing), start(context));
    const bot = createBot({ config: loadConfig(testEnv), adapters: [adapter] });
    const server = await bot.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    try {
      for (let n = 0; n < 20; n++) {
        const abort = new AbortController();
        const res = await fetch(`${url}/web/conversations/long-life/events`, { signal: abort.signal });
        await res.body!.getReader().read(); // the transcript, at once
        abort.abort();
      }
      expect(closing).toBeDefined();
      const dependants = Object.getOwnPropertySymbols(closing!).find((symbol) => symbol.description === 'kDependantSignals');
      await until(() => getEventListeners(closing!, 'abort').length === 0, 'every stream to let go of the closing signal');
      expect(dependants === undefined ? 0 : (closing as unknown as Record<symbol, Set<unknown>>)[dependants]!.size).toBe(0);

      // A visitor's streams past the limit (429 too_many_streams) never run: nothing is left on closing either.
      const session = (await (await fetch(`${url}/web/sessions`, { method: 'POST' })).json()) as { token: string; streamToken: string };
      const posted = await fetch(`${url}/web/messages`, { method: 'POST', headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello' }) });
      const { conversation } = (await posted.json()) as { conversation: string };
      const open: AbortController[] = [];
      const statuses: number[] = [];
      for (let n = 0; n < 13; n++) {
        const abort = new AbortController();
        const res = await fetch(`${url}/web/conversations/${conversation}/events?session=${encodeURIComponent(session.streamToken)}`, { signal: abort.signal });
        statuses.push(res.status);
        if (res.status === 200) open.push(abort);
        else await res.text();
      }
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
      expect(getEventListeners(closing!, 'abort').length).toBeLessThanOrEqual(open.length);
      for (const abort of open) abort.abort();
      await until(() => getEventListeners(closing!, 'abort').length === 0, 'the open streams to let go of the closing signal');
    } finally {
      await bot.close();
    }
  });

  it('many streams open at once (a dozen tabs on one machine) are no "possible leak" warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const bot = createBot({ config: loadConfig(testEnv), adapters: [webChat({ page: true })] });
    const server = await bot.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    const open: AbortController[] = [];
    try {
      for (let n = 0; n < 12; n++) {
        const abort = new AbortController();
        open.push(abort);
        const res = await fetch(`${url}/web/conversations/tab-${n}/events`, { signal: abort.signal });
        expect(res.status).toBe(200);
        await res.body!.getReader().read();
      }
      await new Promise((resolve) => setImmediate(resolve)); // a warning is emitted on the next tick
      expect(warnings.filter((warning) => warning.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      for (const abort of open) abort.abort();
      process.off('warning', onWarning);
      await bot.close();
    }
  });
});

describe('web chat embedded in an app', () => {
  it('leaves the app its `/` unless the page is asked for; the widget and the API are served either way', async () => {
    const config = loadConfig(testEnv);
    const plain = createBot({ config, adapters: [webChat()] });
    const withPage = createBot({ config, adapters: [webChat({ page: true })] });
    try {
      const local = { remoteAddress: '127.0.0.1' };
      const root = await plain.fetch(new Request('http://127.0.0.1/'), local);
      expect(root.status).toBe(404);
      expect((await plain.fetch(new Request('http://127.0.0.1/web/widget.js'), local)).status).toBe(200);
      const posted = await plain.fetch(new Request('http://127.0.0.1/web/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"conversation":"embedded","text":"hi"}' }), local);
      expect(posted.status).toBe(202);
      const page = await withPage.fetch(new Request('http://127.0.0.1/'), local);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('id="messages"');
    } finally {
      await Promise.all([plain.close(), withPage.close()]);
    }
  });
});

describe('web chat without a token', () => {
  it('answers only requests from this machine, not ones relayed by a proxy', async () => {
    const web = await startWebBot();
    try {
      const relayed = await fetch(`${web.url}/web/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7' },
        body: JSON.stringify({ conversation: 'relayed', text: 'hi' }),
      });
      expect(relayed.status).toBe(401);
      expect(await relayed.json()).toMatchObject({ error: { code: 'session_required' } });
      // Proxies that name the client another way (nginx's X-Real-IP, a Via) relay too.
      for (const header of [{ 'x-real-ip': '203.0.113.7' }, { via: '1.1 nginx' }] as Record<string, string>[]) {
        const res = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...header }, body: JSON.stringify({ conversation: 'relayed', text: 'hi' }) });
        expect(res.status).toBe(401);
      }
      expect((await web.post('local', 'hi')).status).toBe(202);
      // The fetch handler knows no client address unless the platform passes it.
      const viaFetch = await web.bot.fetch(new Request('http://127.0.0.1/web/conversations/local'));
      expect(viaFetch.status).toBe(401);
      const withAddress = await web.bot.fetch(new Request('http://127.0.0.1/web/conversations/local'), { remoteAddress: '127.0.0.1' });
      expect(withAddress.status).toBe(200);
    } finally {
      await web.close();
    }
  });
});

describe('web chat for the sites in WEB_ALLOWED_ORIGINS', () => {
  it('an origin written with its default port or an international host matches what the browser sends, for CORS and the frame', async () => {
    const web = await startWebBot({ WEB_ALLOWED_ORIGINS: 'https://www.example.com:443,https://bücher.example' });
    try {
      for (const origin of ['https://www.example.com', 'https://xn--bcher-kva.example']) {
        const res = await fetch(`${web.url}/web/sessions`, { method: 'POST', headers: { origin } });
        expect(res.status).toBe(201);
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        const preflight = await fetch(`${web.url}/web/messages`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
        expect(preflight.status).toBe(204);
      }
      const frame = await fetch(`${web.url}/web/frame`);
      expect(frame.headers.get('content-security-policy')).toContain("frame-ancestors 'self' https://www.example.com https://xn--bcher-kva.example");
    } finally {
      await web.close();
    }
  });
});

describe('web chat: an OPTIONS request that is no CORS preflight', () => {
  it('without an Origin gets 400 not_a_preflight on every API path, not a 403 naming an origin it never had; a foreign origin still gets 403', async () => {
    const web = await startWebBot({ WEB_ALLOWED_ORIGINS: 'https://www.example.com' });
    try {
      for (const path of ['/web/messages', '/web/sessions', '/web/feedback', '/web/conversations', '/web/conversations/c1']) {
        const res = await fetch(`${web.url}${path}`, { method: 'OPTIONS' });
        expect(res.status).toBe(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_a_preflight');
      }
      const foreign = await fetch(`${web.url}/web/messages`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      expect(foreign.status).toBe(403);
      expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('origin_not_allowed');
    } finally {
      await web.close();
    }
  });
});

describe('web chat behind a proxy on this machine', () => {
  it('with PUBLIC_URL set (served to the internet), a request from loopback is not "this machine": it needs a session', async () => {
    const web = await startWebBot({ PUBLIC_URL: 'https://chat.example.com', WEB_SESSION_SECRET: 'web-session-secret-for-the-tests-0123456789' });
    try {
      const res = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'p', text: 'hi' }) });
      expect(res.status).toBe(401);
    } finally {
      await web.close();
    }
  });
});

describe('web chat on a non-loopback address', () => {
  it('bot.listen(port, "0.0.0.0") on a bot configured for loopback still needs WEB_SESSION_SECRET (the web chat does not start without it)', async () => {
    const bot = createBot({ config: loadConfig({ ...testEnv }), adapters: [webChat({ page: true })] });
    const server = await bot.listen(0, '0.0.0.0');
    try {
      const port = (server.address() as { port: number }).port;
      const res = await fetch(`http://127.0.0.1:${port}/web/sessions`, { method: 'POST' });
      expect(res.status).toBe(503);
      // Once started for loopback, a later listen on every address is logged as an error.
      const lines: string[] = [];
      const local = createBot({ config: loadConfig({ ...testEnv }), adapters: [webChat()], logger: pino({ level: 'error' }, { write: (line: string) => void lines.push(line) }) });
      await local.listen(0, '127.0.0.1');
      await local.listen(0, '0.0.0.0');
      expect(lines.join('')).toMatch(/after the bot started for loopback only/);
      await local.close();
    } finally {
      await bot.close();
    }
  });

  it('requires WEB_TOKEN as a bearer token (or a visitor session)', async () => {
    const web = await startWebBot({ HOST: '0.0.0.0', WEB_TOKEN: 'a-very-secret-token-123', WEB_SESSION_SECRET: 'a-session-secret-of-32-characters-or-more' });
    try {
      const res = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 't', text: 'hi' }) });
      expect(res.status).toBe(401);
      const ok = await fetch(`${web.url}/web/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer a-very-secret-token-123' },
        body: JSON.stringify({ conversation: 't', text: 'hi' }),
      });
      expect(ok.status).toBe(202);
      const transcript = await fetch(`${web.url}/web/conversations/t`);
      expect(transcript.status).toBe(401);
    } finally {
      await web.close();
    }
  });
});
