/**
 * Slack's Web API (or whatever answers at SLACK_API_URL) misbehaving when a part is posted: a 200
 * that is not the Web API's JSON (a corporate proxy's login page), a 5xx page, a redirect, a 429
 * whose Retry-After is negative. A post whose answer says nothing of it may have been taken: it is
 * looked for before it is posted again. Pages are never carried in an error (errors are logged and
 * kept as dead letters' reasons). Slack faked over HTTP.
 */
import { gzipSync } from 'node:zlib';
import { WebClient } from '@slack/web-api';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { tryBriefly } from '../../adapters/slack/best-effort.js';
import { MAX_MESSAGE_CHARS, SlackSender } from '../../adapters/slack/send.js';
import { MaybePostedError, MemoryStore, PermanentError, RetryAfterError, type Adapter } from '../../src/index.js';
import { serializeError } from '../../src/observe/logger.js';
import { postReply } from '../../src/replies.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { silentLogger } from '../unit/helpers.js';

const conversation = { platform: 'slack', id: 'T1:C1:1700000000.000100', details: { team: 'T1', channel: 'C1', threadTs: '1700000000.000100', user: 'U1' } };
/** 100 MB of nothing, 100 KB on the wire: read whole, it would take the process's memory. */
const GZIP_BOMB = gzipSync(Buffer.alloc(100 * 1024 * 1024));
const PROXY_PAGE = `<!doctype html><html><body><h1>Sign in to the corporate proxy</h1>${'<p>lorem ipsum</p>'.repeat(200)}</body></html>`;

describe('a Slack Web API that misbehaves when a part is posted', () => {
  let slack: FakeSlack;
  let adapter: Adapter;
  let store: MemoryStore;
  let client: WebClient;
  beforeEach(async () => {
    slack = await startFakeSlack();
    store = new MemoryStore();
    client = new WebClient('xoxb-misbehaving', webClientOptions(slack.url));
    const sender = new SlackSender(client, () => store, () => silentLogger);
    adapter = {
      platform: 'slack',
      path: '/slack/events',
      contentTypes: ['application/json'],
      maxChars: MAX_MESSAGE_CHARS,
      receive: () => Promise.reject(new Error('not used')),
      sendPart: (c, text, part) => sender.sendPart(c as never, text, part),
      findPart: (c, part, since) => sender.findPart(c as never, part, since),
    };
  });
  afterEach(() => slack.close());

  const post = () => postReply(adapter, conversation, { text: 'the answer', kind: 'answer' }, { key: 'job-9:1', markers: store, logger: silentLogger });
  const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

  it("taken, answered with a proxy's HTML page: said without the page, and the retry finds the post instead of posting again", async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { raw: PROXY_PAGE, takenAtOnce: true } : undefined));
    const failed = await failureOf(post());
    expect(failed).toBeInstanceOf(MaybePostedError);
    expect(JSON.stringify(serializeError(failed))).not.toContain('corporate proxy');
    expect((failed as Error).message).toMatch(/an HTML page \(\d+ characters\)/);
    await post();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('conversations.replies')).toHaveLength(1); // it looked
  });

  it('not taken, answered with a proxy page: the retry looks, finds nothing, and posts it once', async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { raw: PROXY_PAGE } : undefined));
    await expect(post()).rejects.toBeInstanceOf(MaybePostedError);
    const again = await post();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
    expect(again.ids).toHaveLength(1);
  });

  it('a 502 page: Slack down for now, a wait (never in place) that says the post may have been taken; its page and headers kept out of the error', async () => {
    slack.on('chat.postMessage', () => ({ status: 502, raw: PROXY_PAGE, headers: { 'set-cookie': 'proxy_session=abc' } }));
    const failed = await failureOf(post());
    expect(failed).toBeInstanceOf(RetryAfterError);
    expect(failed).toMatchObject({ inPlace: false, maybePosted: true, retryAfterMs: 5000 });
    expect((failed as Error).message).toMatch(/^the Slack Web API answered HTTP 502 \(it may have taken the call/);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    const logged = JSON.stringify(serializeError(failed));
    expect(logged).not.toContain('corporate proxy');
    expect(logged).not.toContain('proxy_session');
  });

  it("a 502 after Slack took the post (the gateway passed it on): the retry looks, finds it, and does not post it again", async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { status: 502, takenAtOnce: true, body: { ok: false, error: 'fake_http_502' } } : undefined));
    expect(await failureOf(post())).toMatchObject({ name: 'RetryAfterError', maybePosted: true });
    const again = await post();
    expect(again.ids).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('conversations.replies')).toHaveLength(1); // it looked
  });

  it('a 500 or a 503 says it failed: a wait, and the retry posts without looking', async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { status: 500 } : n === 1 ? { status: 503 } : undefined));
    expect(await failureOf(post())).toMatchObject({ name: 'RetryAfterError', inPlace: false, maybePosted: false });
    expect(await failureOf(post())).toMatchObject({ name: 'RetryAfterError', inPlace: false, maybePosted: false });
    await post();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(3);
    expect(slack.callsTo('conversations.replies')).toHaveLength(0);
  });

  it('a 503 with Retry-After is waited as it says (a short one in place), then posted', async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { status: 503, headers: { 'retry-after': '1' } } : undefined));
    const posted = await post();
    expect(posted.ids).toHaveLength(1);
    const [refused, retried] = slack.callsTo('chat.postMessage');
    expect(retried!.at - refused!.at).toBeGreaterThanOrEqual(990); // not before Retry-After (a few ms of slack: timers round)
  });

  it('a redirect is refused for good, naming where it pointed', async () => {
    slack.on('chat.postMessage', () => ({ status: 302, headers: { location: 'https://login.proxy.example/sso?token=abc' } }));
    const failed = await failureOf(post());
    expect(failed).toBeInstanceOf(PermanentError);
    expect((failed as PermanentError).reason).toBe('slack_redirect');
    expect((failed as Error).message).toContain('redirecting to https://login.proxy.example;');
  });

  it('a 429 whose Retry-After is negative waits the default, not no time at all (again and again)', async () => {
    slack.on('chat.postMessage', () => ({ status: 429, headers: { 'retry-after': '-30' } }));
    // Past the waits in place (three of 2 s would make a slow test): the queue's error is read.
    const sender = new SlackSender(client, () => store, () => silentLogger);
    const failed = await failureOf(sender.sendPart(conversation as never, 'the answer'));
    expect(failed).toBeInstanceOf(RetryAfterError);
    expect((failed as RetryAfterError).retryAfterMs).toBe(2000);
  });

  it('a best-effort call after a negative Retry-After waits too', async () => {
    slack.on('assistant.threads.setTitle', (_call, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '-30' } } : undefined));
    const waits: number[] = [];
    await tryBriefly(() => client.assistant.threads.setTitle({ channel_id: 'C1', thread_ts: '1.1', title: 't' }), (waitMs) => waits.push(waitMs));
    expect(waits).toEqual([2000]);
  }, 10_000);

  it('an answer that decompresses past the bound: not read further; the post may have been taken, so it is looked for', async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { raw: GZIP_BOMB, takenAtOnce: true, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } } : undefined));
    const failed = await failureOf(post());
    expect(failed).toBeInstanceOf(MaybePostedError);
    expect(JSON.stringify(serializeError(failed))).toContain('A request error occurred: fetch failed');
    await post();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it("internal_error (Slack: some of the call may have succeeded): the retry looks for the post before posting again", async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { body: { ok: false, error: 'internal_error' }, takenAtOnce: true } : undefined));
    await expect(post()).rejects.toBeInstanceOf(MaybePostedError);
    await post();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it("a 200 saying { ok: false, error: 'ratelimited' } (a gateway's) waits as a 429 does, spending no attempt", async () => {
    slack.on('chat.postMessage', () => ({ body: { ok: false, error: 'ratelimited' } }));
    const sender = new SlackSender(client, () => store, () => silentLogger);
    const failed = await failureOf(sender.sendPart(conversation as never, 'the answer'));
    expect(failed).toBeInstanceOf(RetryAfterError);
    expect((failed as RetryAfterError).retryAfterMs).toBe(2000);
  });

  it.each(['invalid_auth', 'token_revoked', 'account_inactive'])('the token refused mid-run (%s): dead-lettered at once with that reason', async (refusal) => {
    slack.on('chat.postMessage', () => ({ body: { ok: false, error: refusal } }));
    const failed = await failureOf(post());
    expect(failed).toBeInstanceOf(PermanentError);
    expect((failed as PermanentError).reason).toBe(`slack_${refusal}`);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('an error code parley does not know: retried (the queue bounds it), said as Slack said it', async () => {
    slack.on('chat.postMessage', () => ({ body: { ok: false, error: 'some_new_error' } }));
    const failed = await failureOf(post());
    expect(failed).not.toBeInstanceOf(PermanentError);
    expect(failed).not.toBeInstanceOf(MaybePostedError);
    expect((failed as Error).message).toContain('some_new_error');
  });

  it("a stream whose calls meet a proxy's page: the lines logged about it say so, without the page", async () => {
    slack.on('chat.appendStream', () => ({ raw: PROXY_PAGE }));
    slack.on('chat.stopStream', () => ({ raw: PROXY_PAGE }));
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const sender = new SlackSender(client, () => store, () => logger);
    const answer = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
    const chunks = (async function* () {
      for (let i = 0; i < answer.length; i += 6) yield answer.slice(i, i + 6);
    })();
    const delivery = await sender.stream(conversation as never, chunks, 'job-stream:1');
    expect(delivery.rest).toBeTruthy(); // left to be posted as messages
    expect(lines.join('\n')).toContain('an HTML page');
    expect(lines.join('\n')).not.toContain('corporate proxy');
  });

  it.each(['auth.test', 'oauth.v2.access'])("%s answered with a proxy's page (at start, in the install flow): the error says so, without the page", async (method) => {
    slack.on(method, () => ({ raw: PROXY_PAGE }));
    const failed = await failureOf(client.apiCall(method, { client_id: 'id', client_secret: 'secret', code: 'c' }));
    const logged = JSON.stringify(serializeError(failed));
    expect(logged).toContain('Slack answered 200 with an HTML page');
    expect(logged).not.toContain('corporate proxy');
  });
});
