/**
 * parley in an Express app with the app's own middleware in front, as users mount it:
 * express.raw() before parley (the bytes kept in req.body rather than req.rawBody), and event
 * streams that an app's compression() middleware must leave alone (Cache-Control: no-transform,
 * which compression() and Hono's compress() honour: otherwise the events sit in the gzip buffer
 * and the chat never updates); and a HEAD on an event stream, through the middleware and the
 * fetch handler, answered with its headers alone. Real servers on loopback; Slack and the AI are fakes.
 */
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import type { Bot } from '../../src/index.js';
import { startExpressBot, type ExpressBot } from '../helpers/express-bot.js';
import { appMention, postSlack, signSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const ADMIN_TOKEN = 'embed-express-admin-token-7c2d';

let embedded: ExpressBot;
let bot: Bot;
let base: string;

beforeAll(async () => {
  embedded = await startExpressBot({
    env: { ADMIN_TOKEN },
    adapters: (config) => [webChat({ token: config.web.token })],
    mount(app, parley) {
      app.get('/hello', (_req, res) => void res.send('the app itself'));
      // express.raw() reads every body first (and inflates a gzip one): parley takes req.body's bytes.
      app.use('/bot', express.raw({ type: '*/*' }), parley.middleware);
    },
  });
  ({ bot, base } = embedded);
});
afterAll(() => embedded?.close());

const postsOf = (text: string) => embedded.postsOf(text);

describe("express.raw() in front of parley: app.use('/bot', express.raw(), bot.middleware)", () => {
  it('takes a signed Slack event from the bytes express.raw() kept, and posts the answer once', async () => {
    const res = await postSlack(`${base}/bot/slack/events`, appMention({ text: 'raw parsed mention' }));
    expect(res.status).toBe(200);
    await until(() => postsOf('raw parsed mention').length === 1, 'the answer on Slack');
    // A wrong signature over the same bytes is still refused for what it is.
    const forged = await postSlack(`${base}/bot/slack/events`, appMention({ text: 'forged' }), { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
  });

  it('takes a gzip body express.raw() inflated (its Content-Encoding left on), as behind express.json() with rawBody', async () => {
    const raw = JSON.stringify(appMention({ text: 'gzipped raw mention' }));
    const res = await fetch(`${base}/bot/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...signSlack('test-signing-secret', raw) },
      body: gzipSync(raw),
    });
    expect(res.status).toBe(200);
    await until(() => postsOf('gzipped raw mention').length === 1, 'the answer on Slack');
  });

  it('takes a web chat message, and leaves the app its own routes', async () => {
    const res = await fetch(`${base}/bot/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'raw-chat', text: 'hello through raw' }) });
    expect(res.status).toBe(202);
    const hello = await fetch(`${base}/hello`);
    expect([hello.status, await hello.text()]).toEqual([200, 'the app itself']);
  });
});

describe("event streams through an app's compression() middleware", () => {
  /** The headers of an event stream, the stream then closed. */
  async function streamHeaders(path: string, headers: Record<string, string> = {}): Promise<Headers> {
    const stop = new AbortController();
    const res = await fetch(`${base}${path}`, { headers: { accept: 'text/event-stream', 'accept-encoding': 'gzip', ...headers }, signal: stop.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    stop.abort();
    return res.headers;
  }

  it("the web chat's stream says no-transform, so compression() passes each event on at once", async () => {
    const headers = await streamHeaders('/bot/web/conversations/raw-chat/events');
    expect(headers.get('cache-control')).toMatch(/(^|,)\s*no-transform\s*(,|$)/);
    expect(headers.get('cache-control')).toContain('no-store');
  });

  it("the console's live overview says no-transform too", async () => {
    const login = await fetch(`${base}/bot/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const headers = await streamHeaders('/bot/console/api/events', { cookie });
    expect(headers.get('cache-control')).toMatch(/(^|,)\s*no-transform\s*(,|$)/);
    expect(headers.get('cache-control')).toContain('no-store');
  });
});

describe('HEAD on an event stream: the headers alone, the stream not left running', () => {
  it('through the middleware, the next request on the same connection is answered (not left behind an endless answer)', async () => {
    const socket = connect(embedded.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => void (received += chunk.toString('latin1')));
    // Pipelined, as a keep-alive client sends its next request once the HEAD's headers are in.
    socket.write('HEAD /bot/web/conversations/head-chat/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /bot/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    try {
      await until(() => received.includes('{"status":"ok"}'), 'the answer to the request after the HEAD');
      expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*content-type: text\/event-stream/);
    } finally {
      socket.destroy();
    }
  });

  it('through the fetch handler, a bodiless answer, and the HEADs hold none of the visitor\'s stream slots', async () => {
    const call = (path: string, init: RequestInit = {}) => bot.fetch(new Request(`http://127.0.0.1${path}`, init), { remoteAddress: '203.0.113.7' });
    const session = (await (await call('/web/sessions', { method: 'POST' })).json()) as { token: string };
    const auth = { authorization: `Bearer ${session.token}` };
    const posted = await call('/web/messages', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'my own conversation' }) });
    expect(posted.status).toBe(202);
    const { conversation } = (await posted.json()) as { conversation: string };
    const events = `/web/conversations/${encodeURIComponent(conversation)}/events`;
    // More HEADs than a visitor may hold streams open (3).
    for (let i = 0; i < 4; i++) {
      const head = await call(events, { method: 'HEAD', headers: auth });
      expect([head.status, head.headers.get('content-type'), head.body]).toEqual([200, 'text/event-stream; charset=utf-8', null]);
    }
    const stop = new AbortController();
    const stream = await call(events, { headers: auth, signal: stop.signal });
    expect(stream.status).toBe(200);
    await stream.body?.cancel();
    stop.abort();
  });
});
