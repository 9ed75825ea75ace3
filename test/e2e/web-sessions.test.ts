/**
 * Visitor sessions in the web chat, over HTTP against a real bot and the fake OpenAI server:
 * minted conversation ids, ownership (another visitor gets a 404 everywhere), forged, expired and
 * foreign credentials (401), the operator's WEB_TOKEN, renewal, the off-loopback rules, a
 * repeated message id (one process and two processes on Redis), retention and DELETE.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../adapters/web/session.js';
import { adaptersFromConfig } from '../../cli/adapters.js';
import { ConfigError, loadConfig } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startParley, type ParleyProcess } from '../helpers/processes.js';
import { deleteKeys } from '../helpers/redis-keys.js';
import { until } from '../helpers/until.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';
import { webChat, type TranscriptEntry } from '../../adapters/web/index.js';

const SECRET = 'web-session-secret-for-the-tests-0123456789';
const OPERATOR = 'operator-token-for-the-tests-0123456789';
const REDIS = 'redis://127.0.0.1:6379';
const ID = /^[A-Za-z0-9_-]{22}$/;

interface Visitor {
  token: string;
  streamToken: string;
  renewToken: string;
  visitor: string;
  expiresAt: string;
  cookie: string;
}

/** A small client of the web chat's API, as a visitor or the operator would use it. */
function client(url: string) {
  const call = (method: string, path: string, auth?: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    call,
    async session(auth?: string, headers: Record<string, string> = {}): Promise<Visitor> {
      const res = await call('POST', '/web/sessions', auth, undefined, headers);
      expect(res.status).toBe(201);
      const body = (await res.json()) as Omit<Visitor, 'cookie'>;
      const cookie = res.headers.get('set-cookie') ?? '';
      return { ...body, cookie: cookie.split(';')[0]! };
    },
    /** POST /web/messages; the conversation is minted when absent. */
    async post(auth: string | undefined, text: string, extra: Record<string, unknown> = {}) {
      const res = await call('POST', '/web/messages', auth, { text, ...extra });
      return { status: res.status, body: (await res.json()) as { id: string; conversation: string; error?: { code: string } } };
    },
    async transcript(auth: string | undefined, conversation: string): Promise<TranscriptEntry[]> {
      const res = await call('GET', `/web/conversations/${encodeURIComponent(conversation)}`, auth);
      expect(res.status).toBe(200);
      return ((await res.json()) as { messages: TranscriptEntry[] }).messages;
    },
    async waitForReplies(auth: string | undefined, conversation: string, count: number): Promise<TranscriptEntry[]> {
      let entries: TranscriptEntry[] = [];
      await until(async () => assistantReplies((entries = await this.transcript(auth, conversation))).length >= count, `${count} replies in ${conversation}`, 10_000);
      return entries;
    },
  };
}

/** The first chunk of an event stream, or its status when it is refused. */
async function firstEvent(url: string, headers: Record<string, string> = {}): Promise<{ status: number; data?: string }> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal, headers });
  if (res.status !== 200) return { status: res.status };
  const { value } = await res.body!.getReader().read();
  controller.abort();
  return { status: 200, data: new TextDecoder().decode(value) };
}

/** The user messages of the model's request, in order. */
const userTexts = (call: FakeOpenAi['calls'][number]) => call.body.messages.filter((m) => m.role === 'user').map((m) => m.content);

describe('web chat visitor sessions', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, WEB_SESSION_SECRET: SECRET, WEB_TOKEN: OPERATOR, CACHE_TTL_SECONDS: '0' });
    api = client(web.url);
  });
  afterAll(async () => {
    await web?.close();
    await ai?.close();
  });

  it('POST /web/sessions: a 128-bit visitor, a bearer token for an hour and an HttpOnly cookie for 30 days', async () => {
    const before = Date.now();
    const res = await api.call('POST', '/web/sessions');
    expect(res.status).toBe(201);
    const body = (await res.json()) as Visitor;
    expect(body.visitor).toMatch(ID);
    expect(body.token).toMatch(new RegExp(`^v1\\.${body.visitor}\\.\\d+\\.[A-Za-z0-9_-]+$`));
    // the event stream's own token: same visitor and expiry, another kind
    expect(body.streamToken).toMatch(new RegExp(`^s1\\.${body.visitor}\\.${Date.parse(body.expiresAt)}\\.[A-Za-z0-9_-]+$`));
    const expires = Date.parse(body.expiresAt);
    expect(expires - before).toBeGreaterThan(59 * 60_000);
    expect(expires - before).toBeLessThanOrEqual(60 * 60_000 + 1000);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^parley_web=v1\./);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/web');
    expect(cookie).toContain(`Max-Age=${30 * 24 * 3600}`);
    expect(cookie).not.toContain('Secure'); // plain http here
  });

  it('POST /web/sessions takes no body: one that is not JSON, or a form, is not read (and the README says so)', async () => {
    for (const [type, body] of [['application/json', '{'], ['application/x-www-form-urlencoded', 'a=b']] as const) {
      const res = await fetch(`${web.url}/web/sessions`, { method: 'POST', headers: { 'content-type': type }, body });
      expect(res.status, `${type} ${body}`).toBe(201);
      expect(((await res.json()) as Visitor).visitor).toMatch(ID);
    }
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const malformed = readme.slice(readme.indexOf('### Malformed payloads'), readme.indexOf('## The web chat'));
    expect(malformed.split('\n').find((line) => line.startsWith('| web chat'))).not.toContain('/web/sessions');
    expect(malformed).toContain('`POST /web/sessions` takes no body');
  });

  it('mints 128-bit random conversation ids (22 base64url characters), each one new', async () => {
    const visitor = await api.session();
    const minted = new Set<string>();
    // As many as the visitor may send in a minute (RATE_LIMIT_USER_PER_MINUTE, 20); the next gets a 429.
    for (let i = 0; i < 20; i++) {
      const { status, body } = await api.post(visitor.token, `hello ${i}`);
      expect(status).toBe(202);
      expect(body.conversation).toMatch(ID);
      expect(body.id).toMatch(/.+/);
      minted.add(body.conversation);
    }
    expect(minted.size).toBe(20);
  });

  it('two visitors: neither reads, posts to, streams, deletes nor lists the other one’s conversation (404; a DELETE is the 204 of an id with nothing of its own, erasing nothing)', async () => {
    const [alice, bob] = await Promise.all([api.session(), api.session()]);
    expect(alice.visitor).not.toBe(bob.visitor);
    const { body } = await api.post(alice.token, 'my card number is 4111 1111 1111 1111');
    const mine = body.conversation;
    await api.waitForReplies(alice.token, mine, 1);

    const path = `/web/conversations/${mine}`;
    for (const res of [
      await api.call('GET', path, bob.token),
      await api.call('GET', path, undefined, undefined, { cookie: bob.cookie }),
      await api.call('POST', '/web/messages', bob.token, { conversation: mine, text: 'let me in' }),
    ]) {
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('4111');
    }
    // As for an id nothing is kept of: whether the id is someone's cannot be told. Alice's is intact (below).
    expect((await api.call('DELETE', path, bob.token)).status).toBe(204);
    expect((await api.call('DELETE', `/web/conversations/${randomUUID()}`, bob.token)).status).toBe(204);
    expect((await firstEvent(`${web.url}${path}/events?session=${encodeURIComponent(bob.streamToken)}`)).status).toBe(404);
    const bobs = await (await api.call('GET', '/web/conversations', bob.token)).json();
    expect(bobs).toEqual({ conversations: [] });

    // Alice, with her bearer token, her cookie, or her stream token as ?session= on the stream.
    expect((await api.transcript(alice.token, mine)).map((e) => e.text)).toEqual(['my card number is 4111 1111 1111 1111', 'echo: my card number is 4111 1111 1111 1111']);
    expect((await api.call('GET', path, undefined, undefined, { cookie: alice.cookie })).status).toBe(200);
    const event = await firstEvent(`${web.url}${path}/events?session=${encodeURIComponent(alice.streamToken)}`);
    expect(event.status).toBe(200);
    expect(event.data).toContain('4111');
    const alices = (await (await api.call('GET', '/web/conversations', alice.token)).json()) as { conversations: { id: string; updatedAt: string }[] };
    expect(alices.conversations.map((c) => c.id)).toEqual([mine]);
    // Bob's messages were never appended to Alice's conversation.
    expect((await api.transcript(alice.token, mine)).some((e) => e.text === 'let me in')).toBe(false);
  });

  it('a visitor cannot choose a conversation id: it gets minted ones', async () => {
    const visitor = await api.session();
    const chosen = await api.post(visitor.token, 'hi', { conversation: `chosen-${randomUUID()}` });
    expect(chosen.status).toBe(404);
    expect(chosen.body.error?.code).toBe('not_found');
  });

  it('refuses a forged, an expired, another secret’s and a made-up credential with 401, and shows nothing', async () => {
    const alice = await api.session();
    const { body } = await api.post(alice.token, 'secret stuff');
    const path = `/web/conversations/${body.conversation}`;
    const [v, visitor, expires, mac] = alice.token.split('.');
    const flipped = `${mac!.slice(0, -2)}${mac!.endsWith('AA') ? 'BB' : 'AA'}`;
    const forged = [
      `${v}.${visitor}.${expires}.${flipped}`, // a bad HMAC
      `${v}.${visitor}.${Number(expires) + 3_600_000}.${mac}`, // a longer expiry under the old HMAC
      sessions(SECRET).issue(-1000, visitor).token, // expired a second ago, correctly signed
      sessions('another-secret-of-32-characters-or-more').issue(3_600_000, visitor).token,
      'not-a-token',
    ];
    for (const credential of forged) {
      const read = await api.call('GET', path, credential);
      expect(read.status).toBe(401);
      expect(await read.text()).not.toContain('secret stuff');
      expect((await api.call('GET', path, undefined, undefined, { cookie: `parley_web=${credential}` })).status).toBe(401);
      expect((await api.call('POST', '/web/messages', credential, { text: 'hi' })).status).toBe(401);
      expect((await api.call('DELETE', path, credential)).status).toBe(401);
      expect((await firstEvent(`${web.url}${path}/events?session=${encodeURIComponent(credential)}`)).status).toBe(401);
    }
    const refused = await api.call('GET', path, forged[0]);
    expect(await refused.json()).toMatchObject({ error: { code: 'bad_session' } });
    // and it is all still there for Alice
    expect((await api.transcript(alice.token, body.conversation))[0]?.text).toBe('secret stuff');
  });

  it('the operator’s WEB_TOKEN reads any conversation and may choose ids', async () => {
    const alice = await api.session();
    const { body } = await api.post(alice.token, 'for the operator');
    expect((await api.transcript(OPERATOR, body.conversation))[0]?.text).toBe('for the operator');
    const chosen = await api.post(OPERATOR, 'server to server', { conversation: 'crm-ticket-42' });
    expect(chosen).toMatchObject({ status: 202, body: { conversation: 'crm-ticket-42' } });
    await api.waitForReplies(OPERATOR, 'crm-ticket-42', 1);
    // ... which a visitor still cannot reach
    expect((await api.call('GET', '/web/conversations/crm-ticket-42', alice.token)).status).toBe(404);
  });

  it('renews a session for the same visitor (bearer or cookie); an expired one starts a new visitor', async () => {
    const first = await api.session();
    const byBearer = await api.session(first.token);
    expect(byBearer.visitor).toBe(first.visitor);
    const byCookie = await api.session(undefined, { cookie: first.cookie });
    expect(byCookie.visitor).toBe(first.visitor);
    const { body } = await api.post(first.token, 'before renewal');
    expect((await api.transcript(byBearer.token, body.conversation))[0]?.text).toBe('before renewal');
    const expired = sessions(SECRET).issue(-1, first.visitor).token;
    expect((await api.session(expired)).visitor).not.toBe(first.visitor);
  });

  it('another parley_web cookie sent first (a sibling subdomain planting its own session on a longer path) takes the visitor over no more, nor signs it out', async () => {
    const alice = await api.session();
    const mallory = await api.session();
    const both = { cookie: `${mallory.cookie}; ${alice.cookie}` };
    // Two visitors' sessions: neither is continued, so nothing Alice writes lands where Mallory reads.
    const renewed = await api.session(undefined, both);
    expect(renewed.visitor).not.toBe(mallory.visitor);
    expect(renewed.visitor).not.toBe(alice.visitor);
    expect((await api.call('GET', '/web/conversations', undefined, undefined, both)).status).toBe(401);
    // A planted value that is no session is passed over: Alice stays herself.
    expect((await api.session(undefined, { cookie: `parley_web=planted; ${alice.cookie}` })).visitor).toBe(alice.visitor);
    // Her own session twice (the chat mounted at two paths) is still hers.
    expect((await api.session(undefined, { cookie: `${alice.cookie}; ${alice.cookie}` })).visitor).toBe(alice.visitor);
  });

  it('a frame with no cookie renews with its renew token once its bearer has expired: the same visitor, the same conversations, for 30 days', async () => {
    const alice = await api.session();
    expect(alice.renewToken).toMatch(new RegExp(`^r1\\.${alice.visitor}\\.\\d+\\.[A-Za-z0-9_-]{43}$`));
    const renewDays = (token: string) => (Number(token.split('.')[2]) - Date.now()) / 86_400_000;
    expect(renewDays(alice.renewToken)).toBeGreaterThan(29.9);
    expect(renewDays(alice.renewToken)).toBeLessThanOrEqual(30);
    const { body } = await api.post(alice.token, 'before the laptop slept');
    await api.waitForReplies(alice.token, body.conversation, 1);
    const path = `/web/conversations/${body.conversation}`;
    // The hour is up: the bearer token alone would start a stranger, who cannot read the conversation.
    const expired = sessions(SECRET).issue(-1, alice.visitor).token;
    expect((await api.call('GET', path, expired)).status).toBe(401);
    expect((await api.session(expired)).visitor).not.toBe(alice.visitor);
    // The renew token keeps the visitor: a fresh session, stream token, cookie and renew token, all Alice's.
    const renewed = await api.session(alice.renewToken);
    expect(renewed.visitor).toBe(alice.visitor);
    expect(renewed.token).not.toBe(alice.token);
    expect(sessions(SECRET).verifyStream(renewed.streamToken)?.visitor).toBe(alice.visitor);
    expect(sessions(SECRET).verify(renewed.cookie.split('=')[1]!)?.visitor).toBe(alice.visitor);
    expect(sessions(SECRET).verifyRenew(renewed.renewToken)?.visitor).toBe(alice.visitor);
    expect((await api.transcript(renewed.token, body.conversation)).map((e) => e.text)).toEqual(['before the laptop slept', 'echo: before the laptop slept']);
    expect((await firstEvent(`${web.url}${path}/events?session=${encodeURIComponent(renewed.streamToken)}`)).status).toBe(200);
    expect((await api.post(renewed.token, 'after waking up', { conversation: body.conversation })).status).toBe(202);
    // the new renew token renews too; an expired or another secret's renew token starts a stranger
    expect((await api.session(renewed.renewToken)).visitor).toBe(alice.visitor);
    expect((await api.session(sessions(SECRET).issueRenew(-1, alice.visitor).token)).visitor).not.toBe(alice.visitor);
    expect((await api.session(sessions('another-secret-of-32-characters-or-more').issueRenew(60_000, alice.visitor).token)).visitor).not.toBe(alice.visitor);
  });

  it('a renew token renews and does nothing else: as a bearer or a cookie it reads, posts, lists and deletes nothing (401), and no URL takes it', async () => {
    const alice = await api.session();
    const { body } = await api.post(alice.token, 'kept to myself');
    await api.waitForReplies(alice.token, body.conversation, 1);
    const path = `/web/conversations/${body.conversation}`;
    for (const res of [
      await api.call('GET', path, alice.renewToken),
      await api.call('GET', '/web/conversations', alice.renewToken),
      await api.call('POST', '/web/messages', alice.renewToken, { conversation: body.conversation, text: 'hi' }),
      await api.call('POST', '/web/feedback', alice.renewToken, { conversation: body.conversation, exchange: 'x', rating: 'up' }),
      await api.call('DELETE', path, alice.renewToken),
      await api.call('GET', path, undefined, undefined, { cookie: `parley_web=${alice.renewToken}` }),
    ]) {
      expect(res.status).toBe(401);
    }
    const inUrl = await fetch(`${web.url}${path}/events?session=${encodeURIComponent(alice.renewToken)}`);
    expect(inUrl.status).toBe(401);
    expect(((await inUrl.json()) as { error: { code: string } }).error.code).toBe('token_in_url');
    // as the cookie it renews nothing either: a stranger
    expect((await api.session(undefined, { cookie: `parley_web=${alice.renewToken}` })).visitor).not.toBe(alice.visitor);
    expect((await api.transcript(alice.token, body.conversation)).map((e) => e.text)).toEqual(['kept to myself', 'echo: kept to myself']);
  });

  it('the token in an event stream URL (as a proxy logs it) opens that stream and nothing else: it renews no session and reads nothing', async () => {
    const alice = await api.session();
    const { body } = await api.post(alice.token, 'in the logs');
    await api.waitForReplies(alice.token, body.conversation, 1);
    const path = `/web/conversations/${body.conversation}`;
    // What the page puts in the stream's URL (before stream tokens: its bearer token) opens the stream.
    const inUrl = alice.streamToken ?? alice.token;
    expect((await firstEvent(`${web.url}${path}/events?session=${encodeURIComponent(inUrl)}`)).status).toBe(200);
    // Found in a log, it is no session: renewing with it starts a stranger, with no cookie for Alice.
    const traded = await api.session(inUrl);
    expect(traded.visitor).not.toBe(alice.visitor);
    expect((await api.call('GET', path, traded.token)).status).toBe(404);
    expect((await api.call('GET', path, undefined, undefined, { cookie: traded.cookie })).status).toBe(404);
    // nor does it read, post, list or delete as a bearer token or a cookie
    for (const res of [
      await api.call('GET', path, inUrl),
      await api.call('GET', '/web/conversations', inUrl),
      await api.call('POST', '/web/messages', inUrl, { conversation: body.conversation, text: 'hi' }),
      await api.call('DELETE', path, inUrl),
      await api.call('GET', path, undefined, undefined, { cookie: `parley_web=${inUrl}` }),
    ]) {
      expect(res.status).toBe(401);
    }
    // and a session token (an hour as a bearer, 30 days as the cookie) is never taken from a URL
    expect((await firstEvent(`${web.url}${path}/events?session=${encodeURIComponent(alice.token)}`)).status).toBe(401);
    expect((await firstEvent(`${web.url}${path}/events?session=${encodeURIComponent(alice.cookie.split('=')[1]!)}`)).status).toBe(401);
    expect((await api.transcript(alice.token, body.conversation)).map((e) => e.text)).toEqual(['in the logs', 'echo: in the logs']);
  });

  it('a stream URL whose token is not a stream token (a page from before stream tokens, or none given) opens with the visitor’s cookie', async () => {
    const alice = await api.session();
    const { body } = await api.post(alice.token, 'across a deploy');
    const path = `/web/conversations/${body.conversation}/events`;
    for (const inUrl of ['undefined', alice.token]) {
      expect((await firstEvent(`${web.url}${path}?session=${encodeURIComponent(inUrl)}`, { cookie: alice.cookie })).status).toBe(200);
      // without the cookie it opens nothing
      expect((await firstEvent(`${web.url}${path}?session=${encodeURIComponent(inUrl)}`)).status).toBe(401);
    }
  });

  it('refuses a message over 4000 characters with 413 and an empty one with 400', async () => {
    const visitor = await api.session();
    const long = await api.post(visitor.token, 'x'.repeat(4001));
    expect(long.status).toBe(413);
    expect(long.body.error?.code).toBe('message_too_long');
    expect((await api.post(visitor.token, 'x'.repeat(4000))).status).toBe(202);
    const empty = await api.post(visitor.token, '   ');
    expect(empty.status).toBe(400);
  });

  it('a repeated message id appends the visitor’s turn once, and the model sees it once', async () => {
    const visitor = await api.session();
    const first = await api.post(visitor.token, 'only once please', { id: 'm-1' });
    const again = await api.post(visitor.token, 'only once please', { id: 'm-1', conversation: first.body.conversation });
    expect([first.status, again.status]).toEqual([202, 202]);
    const conversation = first.body.conversation;
    await api.waitForReplies(visitor.token, conversation, 1);
    await api.post(visitor.token, 'and the next one', { conversation });
    const entries = await api.waitForReplies(visitor.token, conversation, 2);
    expect(entries.map((e) => [e.role, e.text])).toEqual([
      ['user', 'only once please'],
      ['assistant', 'echo: only once please'],
      ['user', 'and the next one'],
      ['assistant', 'echo: and the next one'],
    ]);
    const lastCall = ai.calls.findLast((c) => userTexts(c).includes('and the next one'))!;
    expect(userTexts(lastCall)).toEqual(['only once please', 'and the next one']);
    // The same id in another conversation is another message.
    const other = await api.post(visitor.token, 'same id, elsewhere', { id: 'm-1' });
    expect((await api.waitForReplies(visitor.token, other.body.conversation, 1)).map((e) => e.text)).toEqual(['same id, elsewhere', 'echo: same id, elsewhere']);
  });

  it('DELETE erases the transcript, the model’s history and the log; a second DELETE is a 204 too (nothing left)', async () => {
    // The operator's chosen id, so the next message goes to the same conversation id.
    const id = `forget-${randomUUID()}`;
    await api.post(OPERATOR, 'my secret is 4711', { conversation: id });
    await api.waitForReplies(OPERATOR, id, 1);
    expect(await web.bot.conversationLog.list(id)).toHaveLength(1);
    const deleted = await api.call('DELETE', `/web/conversations/${id}`, OPERATOR);
    expect(deleted.status).toBe(204);
    expect(await api.transcript(OPERATOR, id)).toEqual([]);
    expect(await web.bot.conversationLog.list(id)).toEqual([]);
    expect((await api.call('DELETE', `/web/conversations/${id}`, OPERATOR)).status).toBe(204);
    await api.post(OPERATOR, 'what was my secret?', { conversation: id });
    await api.waitForReplies(OPERATOR, id, 1);
    const call = ai.calls.findLast((c) => userTexts(c).includes('what was my secret?'))!;
    expect(call.body.messages.filter((m) => m.role !== 'system').map((m) => m.content)).toEqual(['what was my secret?']);

    // A visitor deletes its own: gone for it too (404 afterwards; a second DELETE is a 204, nothing of it being left).
    const visitor = await api.session();
    const { body } = await api.post(visitor.token, 'delete me');
    await api.waitForReplies(visitor.token, body.conversation, 1);
    expect((await api.call('DELETE', `/web/conversations/${body.conversation}`, visitor.token)).status).toBe(204);
    expect((await api.call('GET', `/web/conversations/${body.conversation}`, visitor.token)).status).toBe(404);
    expect((await api.call('DELETE', `/web/conversations/${body.conversation}`, visitor.token)).status).toBe(204);
    expect((await api.call('POST', '/web/messages', visitor.token, { conversation: body.conversation, text: 'back?' })).status).toBe(404);
    expect(await (await api.call('GET', '/web/conversations', visitor.token)).json()).toEqual({ conversations: [] });
  });

  it('an open event stream ends once its conversation is deleted', async () => {
    const visitor = await api.session();
    const { body } = await api.post(visitor.token, 'stream then delete');
    await api.waitForReplies(visitor.token, body.conversation, 1);
    const res = await fetch(`${web.url}/web/conversations/${body.conversation}/events?session=${encodeURIComponent(visitor.streamToken)}`);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('stream then delete');
    expect((await api.call('DELETE', `/web/conversations/${body.conversation}`, visitor.token)).status).toBe(204);
    const seen: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen.push(new TextDecoder().decode(value));
    }
    expect(seen.join('')).toContain('"messages":[]'); // the erased transcript, then the end
  });

  it('an open event stream ends when the token it was opened with expires (no-store, as every API answer)', async () => {
    const visitor = await api.session();
    const { body } = await api.post(visitor.token, 'stream until the token expires');
    await api.waitForReplies(visitor.token, body.conversation, 1);
    // A stream token found in a proxy's log, with a second left of its hour.
    const expiresAt = new Date(Date.now() + 1000);
    const token = sessions(SECRET).streamToken({ visitor: visitor.visitor, expiresAt });
    const res = await fetch(`${web.url}/web/conversations/${body.conversation}/events?session=${encodeURIComponent(token)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store, no-transform');
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('stream until the token expires');
    for (;;) if ((await reader.read()).done) break; // the stream ends (the test's timeout otherwise)
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    // A message the visitor sends afterwards is not streamed to the old URL: it is refused.
    expect((await firstEvent(`${web.url}/web/conversations/${body.conversation}/events?session=${encodeURIComponent(token)}`)).status).toBe(401);
  });

  it('WEB_TOKEN configured: a request without a credential gets 401, even from this machine', async () => {
    const res = await api.call('GET', '/web/conversations/anything');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'session_required' } });
  });
});

describe('web chat on loopback without any setup', () => {
  it('answers at once without credentials, and with a session (a secret made up for the process)', async () => {
    const ai = await startFakeOpenAi();
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url });
    try {
      const api = client(web.url);
      expect((await web.post('no-setup', 'hello')).status).toBe(202);
      expect((await web.waitFor('no-setup', (e) => assistantReplies(e).length === 1)).map((e) => e.text)).toEqual(['hello', 'echo: hello']);
      const visitor = await api.session();
      const { status, body } = await api.post(visitor.token, 'as a visitor');
      expect(status).toBe(202);
      expect((await api.waitForReplies(visitor.token, body.conversation, 1)).map((e) => e.text)).toEqual(['as a visitor', 'echo: as a visitor']);
      // with a session the visitor rules apply, even here
      expect((await api.call('GET', '/web/conversations/no-setup', visitor.token)).status).toBe(404);

      // DNS rebinding: a page on another name that resolves to 127.0.0.1 asks with its own Host. It is
      // not this machine then: no credential, no transcript (and a session of its own sees only its own).
      const port = new URL(web.url).port;
      const rebound = await rawGet(Number(port), '/web/conversations/no-setup', `rebind.attacker.example:${port}`);
      expect(rebound.status).toBe(401);
      expect(rebound.body).toContain('session_required');
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `app.localhost:${port}`]) {
        expect([host, (await rawGet(Number(port), '/web/conversations/no-setup', host)).status]).toEqual([host, 200]);
      }
    } finally {
      await web.close();
      await ai.close();
    }
  });
});

/** A GET with the Host header given (fetch sets its own). */
function rawGet(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('web chat off loopback', () => {
  it('refuses to start without WEB_SESSION_SECRET, naming it', async () => {
    // off loopback the chat is off unless asked for (WEB_CHAT, WEB_TOKEN or WEB_SESSION_SECRET)
    expect(adaptersFromConfig(loadConfig({ HOST: '0.0.0.0' }))).toEqual([]);
    for (const env of [{ HOST: '0.0.0.0', WEB_TOKEN: OPERATOR }, { HOST: '0.0.0.0', WEB_CHAT: 'true' }]) {
      expect(() => adaptersFromConfig(loadConfig(env))).toThrow(ConfigError);
      expect(() => adaptersFromConfig(loadConfig(env))).toThrow(/WEB_SESSION_SECRET/);
    }
    expect(adaptersFromConfig(loadConfig({ HOST: '0.0.0.0', WEB_SESSION_SECRET: SECRET })).map((a) => a.platform)).toEqual(['web']);
    expect(adaptersFromConfig(loadConfig({ HOST: '0.0.0.0', WEB_CHAT: 'false' }))).toEqual([]);
    // and `parley serve` exits with the message
    await expect(startParley(['serve'], { HOST: '0.0.0.0', WEB_CHAT: 'true' })).rejects.toThrow(/WEB_SESSION_SECRET/);
  });

  it('with PUBLIC_URL set (served to the internet) on loopback, refuses to start without WEB_SESSION_SECRET too', async () => {
    const PUBLIC_URL = 'https://chat.example.com';
    // like off loopback: off unless asked for, and asked for it needs the secret
    expect(adaptersFromConfig(loadConfig({ PUBLIC_URL }))).toEqual([]);
    for (const env of [{ PUBLIC_URL, WEB_TOKEN: OPERATOR }, { PUBLIC_URL, WEB_CHAT: 'true' }]) {
      expect(() => adaptersFromConfig(loadConfig(env))).toThrow(ConfigError);
      expect(() => adaptersFromConfig(loadConfig(env))).toThrow(/WEB_SESSION_SECRET.*PUBLIC_URL.*Fix: set WEB_SESSION_SECRET/);
    }
    expect(adaptersFromConfig(loadConfig({ PUBLIC_URL, WEB_SESSION_SECRET: SECRET })).map((a) => a.platform)).toEqual(['web']);
    // embedded (the adapter added by hand): it does not start, and its routes say why
    const web = await startWebBot({ PUBLIC_URL });
    try {
      const res = await fetch(`${web.url}/web/sessions`, { method: 'POST' });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'not_configured', message: expect.stringMatching(/PUBLIC_URL.*Fix: set WEB_SESSION_SECRET/) } });
    } finally {
      await web.close();
    }
  });

  it('the adapter itself refuses to start (readiness names WEB_SESSION_SECRET)', async () => {
    const web = await startWebBot({ HOST: '0.0.0.0', WEB_TOKEN: OPERATOR });
    try {
      await until(async () => {
        const ready = (await (await fetch(`${web.url}/readyz`)).json()) as { adapters: { web: string } };
        return ready.adapters.web.startsWith('failed: ') && ready.adapters.web.includes('WEB_SESSION_SECRET');
      }, 'the web adapter to report its failed start');
      // and its routes say so at once
      const res = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR}` }, body: '{"text":"hi"}' });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'not_configured', message: expect.stringContaining('WEB_SESSION_SECRET') } });
    } finally {
      await web.close();
    }
  });

  it('a credential-less request gets 401 (also from this machine); a session works', async () => {
    const ai = await startFakeOpenAi();
    const web = await startWebBot({ HOST: '0.0.0.0', WEB_SESSION_SECRET: SECRET, OPENAI_BASE_URL: ai.url });
    try {
      const api = client(web.url);
      for (const res of [
        await api.call('POST', '/web/messages', undefined, { conversation: 'x', text: 'hi' }),
        await api.call('POST', '/web/messages', undefined, { text: 'hi' }),
        await api.call('GET', '/web/conversations/x'),
        await api.call('GET', '/web/conversations/x', undefined, undefined, { 'x-forwarded-for': '203.0.113.9' }),
      ]) {
        expect(res.status).toBe(401);
      }
      const visitor = await api.session(undefined, { 'x-forwarded-for': '203.0.113.9' });
      const { status, body } = await api.post(visitor.token, 'from afar');
      expect(status).toBe(202);
      expect((await api.waitForReplies(visitor.token, body.conversation, 1)).map((e) => e.text)).toEqual(['from afar', 'echo: from afar']);
    } finally {
      await web.close();
      await ai.close();
    }
  });
});

describe('web chat on Redis', () => {
  let ai: FakeOpenAi;
  let redis: Redis;
  const prefixes: string[] = [];
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    redis = new Redis(REDIS);
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(redis, `${prefix}:`);
    redis.disconnect();
    await ai?.close();
  });
  const prefix = () => {
    const p = `t${randomUUID().slice(0, 8)}`;
    prefixes.push(p);
    return p;
  };

  it('transcripts and owner records expire after HISTORY_TTL_SECONDS; DELETE erases transcript, history and log', async () => {
    const p = prefix();
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, REDIS_URL: REDIS, REDIS_PREFIX: p, WEB_SESSION_SECRET: SECRET, HISTORY_TTL_SECONDS: '4321', CACHE_TTL_SECONDS: '0' });
    try {
      const api = client(web.url);
      const visitor = await api.session();
      const { body } = await api.post(visitor.token, 'keep me a while');
      const conversation = body.conversation;
      await api.waitForReplies(visitor.token, conversation, 1);
      for (const key of [`${p}:parley:web:transcript:${conversation}`, `${p}:parley:web:owner:${conversation}`]) {
        const ttl = await redis.ttl(key);
        expect(ttl).toBeGreaterThan(4300);
        expect(ttl).toBeLessThanOrEqual(4321);
      }
      const history = `${p}:parley:history:web:${conversation}`;
      const log = `${p}:convlog:c:${conversation}`;
      await until(async () => (await redis.exists(history)) === 1 && (await redis.exists(log)) === 1, 'history and log on Redis');
      expect((await api.call('DELETE', `/web/conversations/${conversation}`, visitor.token)).status).toBe(204);
      expect(await redis.exists(`${p}:parley:web:transcript:${conversation}`, `${p}:parley:web:owner:${conversation}`, history, log)).toBe(0);
      const index = await redis.lrange(`${p}:convlog:recent`, 0, -1);
      expect(index.some((entry) => entry.includes(conversation))).toBe(false);
      expect((await api.call('DELETE', `/web/conversations/${conversation}`, visitor.token)).status).toBe(204);
    } finally {
      await web.close();
    }
  });

  it('DELETE after the transcript expired: the visitor’s erases the log entries left (204, and 204 again); another visitor’s, or a bad token, erases nothing', async () => {
    const p = prefix();
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, REDIS_URL: REDIS, REDIS_PREFIX: p, WEB_SESSION_SECRET: SECRET, WEB_TOKEN: OPERATOR, HISTORY_TTL_SECONDS: '4321', CACHE_TTL_SECONDS: '0' });
    try {
      const api = client(web.url);
      const [alice, bob] = await Promise.all([api.session(), api.session()]);
      const conversation = (await api.post(alice.token, 'forget me later')).body.conversation;
      // The operator's word in it too: erased with the visitor's conversation, as while its transcript lived.
      expect((await api.post(OPERATOR, 'an operator note', { conversation })).status).toBe(202);
      await api.waitForReplies(alice.token, conversation, 2);
      const log = `${p}:convlog:c:${conversation}`;
      await until(async () => (await redis.llen(log)) === 2, 'both exchanges in the log');
      // HISTORY_TTL_SECONDS passes: the transcript, its owner record and the history expire; the log (30 days) stays.
      await redis.del(`${p}:parley:web:transcript:${conversation}`, `${p}:parley:web:owner:${conversation}`, `${p}:parley:history:web:${conversation}`);
      const path = `/web/conversations/${conversation}`;
      expect((await api.call('GET', path, alice.token)).status).toBe(404);
      // Not Bob's to erase (the 204 of an id with nothing of his), nor a forged or missing session's.
      expect((await api.call('DELETE', path, bob.token)).status).toBe(204);
      expect((await api.call('DELETE', path, `${alice.token}x`)).status).toBe(401);
      expect((await api.call('DELETE', path, alice.renewToken)).status).toBe(401);
      expect(await redis.llen(log)).toBe(2);
      // Alice's is: the log's entries go, from the index too.
      expect((await api.call('DELETE', path, alice.token)).status).toBe(204);
      expect(await redis.exists(log)).toBe(0);
      expect((await redis.lrange(`${p}:convlog:recent`, 0, -1)).some((entry) => entry.includes(conversation))).toBe(false);
      expect(await web.bot.conversationLog.list(conversation)).toEqual([]);
      // Again, or for an id with nothing left of it: nothing to erase, a 204.
      expect((await api.call('DELETE', path, alice.token)).status).toBe(204);
      expect((await api.call('DELETE', `/web/conversations/${randomUUID()}`, bob.token)).status).toBe(204);
    } finally {
      await web.close();
    }
  });

  it('GET /web/conversations keeps listing a conversation while the visitor posts to it, past HISTORY_TTL_SECONDS from its start', async () => {
    const p = prefix();
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, REDIS_URL: REDIS, REDIS_PREFIX: p, WEB_SESSION_SECRET: SECRET, HISTORY_TTL_SECONDS: '3', CACHE_TTL_SECONDS: '0' });
    try {
      const api = client(web.url);
      const visitor = await api.session();
      const { body } = await api.post(visitor.token, 'first');
      const started = Date.now();
      while (Date.now() - started < 4500) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect((await api.post(visitor.token, 'still here', { conversation: body.conversation })).status).toBe(202);
      }
      const listed = (await (await api.call('GET', '/web/conversations', visitor.token)).json()) as { conversations: { id: string }[] };
      expect(listed.conversations.map((c) => c.id)).toEqual([body.conversation]);
    } finally {
      await web.close();
    }
  });

  it('rotating WEB_SESSION_SECRET: after a restart with <new>,<old> a visitor keeps its conversation and renewal keeps the visitor; with <new> alone the old session is refused', async () => {
    const p = prefix();
    const NEW = 'the-new-web-session-secret-0123456789abcdef';
    const env = { OPENAI_BASE_URL: ai.url, REDIS_URL: REDIS, REDIS_PREFIX: p, CACHE_TTL_SECONDS: '0' };
    let web: WebBot | undefined;
    /** The bot stopped and started again with `secret` (and `options`): a deploy. */
    const restart = async (secret: string, options: Parameters<typeof startWebBot>[1] = {}) => {
      await web?.close();
      web = undefined;
      web = await startWebBot({ ...env, WEB_SESSION_SECRET: secret }, options);
      return client(web.url);
    };
    const streamStatus = async (conversation: string, token: string) => (await firstEvent(`${web!.url}/web/conversations/${conversation}/events?session=${encodeURIComponent(token)}`)).status;
    try {
      // Before: a visitor's session and conversation under the old secret.
      let api = await restart(SECRET);
      const old = await api.session();
      const conversation = (await api.post(old.token, 'before the rotation')).body.conversation;
      const path = `/web/conversations/${conversation}`;
      await api.waitForReplies(old.token, conversation, 1);

      // Restarted with the new secret first: the old bearer token, cookie and stream token still work.
      api = await restart(`${NEW},${SECRET}`);
      expect((await api.transcript(old.token, conversation)).map((e) => e.text)).toEqual(['before the rotation', 'echo: before the rotation']);
      expect((await api.call('GET', path, undefined, undefined, { cookie: old.cookie })).status).toBe(200);
      expect(await streamStatus(conversation, old.streamToken)).toBe(200);
      expect((await api.post(old.token, 'during the rotation', { conversation })).status).toBe(202);
      // Renewing keeps the visitor, signed with the new secret now (bearer token, cookie, stream token).
      const renewed = await api.session(undefined, { cookie: old.cookie });
      expect(renewed.visitor).toBe(old.visitor);
      for (const token of [renewed.token, renewed.cookie.split('=')[1]!]) {
        expect(sessions(NEW).verify(token)?.visitor).toBe(old.visitor);
        expect(sessions(SECRET).verify(token)).toBeUndefined();
      }
      expect(sessions(NEW).verifyStream(renewed.streamToken)?.visitor).toBe(old.visitor);
      expect((await api.session(old.token)).visitor).toBe(old.visitor);
      await api.waitForReplies(renewed.token, conversation, 2);

      // With the new secret alone: the renewed session reads the conversation, the old one gets 401.
      api = await restart(NEW);
      expect((await api.transcript(renewed.token, conversation)).map((e) => e.text)).toContain('during the rotation');
      expect((await api.call('GET', path, undefined, undefined, { cookie: renewed.cookie })).status).toBe(200);
      expect(await streamStatus(conversation, renewed.streamToken)).toBe(200);
      const refused = await api.call('GET', path, old.token);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ error: { code: 'bad_session' } });
      expect((await api.call('GET', path, undefined, undefined, { cookie: old.cookie })).status).toBe(401);
      expect(await streamStatus(conversation, old.streamToken)).toBe(401);
      expect((await api.session(undefined, { cookie: old.cookie })).visitor).not.toBe(old.visitor);

      // Embedded, webChat({ sessionSecret }) takes the secrets as a list.
      api = await restart(NEW, { adapters: [webChat({ sessionSecret: [NEW, SECRET] })] });
      expect((await api.transcript(old.token, conversation))[0]?.text).toBe('before the rotation');
      expect((await api.session(old.token)).visitor).toBe(old.visitor);
    } finally {
      await web?.close();
    }
  });

  it('two processes sharing Redis: a session from one works on the other, and a repeated id appends the turn once', async () => {
    const p = prefix();
    const env = { REDIS_URL: REDIS, REDIS_PREFIX: p, OPENAI_BASE_URL: ai.url, WEB_SESSION_SECRET: SECRET, CACHE_TTL_SECONDS: '0', JOB_BACKOFF_MS: '50', AI_BACKOFF_MS: '20' };
    const processes: ParleyProcess[] = [];
    try {
      processes.push(...(await Promise.all([startParley(['serve'], env), startParley(['serve'], env)])));
      const [one, two] = processes.map((process) => client(process.url!));
      const visitor = await one!.session();
      const { body } = await one!.post(visitor.token, 'hello from one');
      const conversation = body.conversation;
      // the same message, at once, to both processes, several times
      const id = `dup-${randomUUID()}`;
      const sends = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? two! : one!).post(visitor.token, 'said once, sent six times', { id, conversation })),
      );
      expect(sends.map((s) => s.status)).toEqual([202, 202, 202, 202, 202, 202]);
      const entries = await two!.waitForReplies(visitor.token, conversation, 2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await one!.transcript(visitor.token, conversation);
      expect(after.filter((e) => e.role === 'user').map((e) => e.text)).toEqual(['hello from one', 'said once, sent six times']);
      expect(assistantReplies(after)).toHaveLength(2);
      expect(entries.length).toBeGreaterThanOrEqual(4);
      const calls = ai.calls.filter((c) => userTexts(c).includes('said once, sent six times'));
      expect(calls).toHaveLength(1);
      expect(userTexts(calls[0]!)).toEqual(['hello from one', 'said once, sent six times']);
      // another visitor is refused on either process
      const other = await two!.session();
      for (const api of [one!, two!]) expect((await api.call('GET', `/web/conversations/${conversation}`, other.token)).status).toBe(404);
    } finally {
      await Promise.all(processes.map((process) => process.stop()));
    }
  }, 60_000); // two processes to start
});
