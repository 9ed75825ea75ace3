/**
 * Twilio's API misbehaving when a WhatsApp part is sent: a 2xx that is not Twilio's JSON (a
 * corporate proxy's login page), JSON without the message's SID, a redirect. A send whose answer
 * says nothing of it may have been taken: it is looked for before it is sent again, never counted
 * as sent when it was not, and never sent twice. Twilio faked over HTTP.
 */
import { gzipSync } from 'node:zlib';
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTwilioHttpClient, whatsappAdapter, type WhatsAppDetails } from '../../adapters/whatsapp/index.js';
import { MaybePostedError, MemoryStore, PermanentError, type Adapter } from '../../src/index.js';
import { postReply } from '../../src/replies.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, USER_NUMBER } from '../helpers/twilio-webhooks.js';
import { silentLogger } from '../unit/helpers.js';

const conversation = { platform: 'whatsapp', id: `${BOT_NUMBER}:${USER_NUMBER}`, details: { from: USER_NUMBER, to: BOT_NUMBER } };
/** 100 MB of nothing, 100 KB on the wire: read whole, it would take the process's memory. */
const GZIP_BOMB = gzipSync(Buffer.alloc(100 * 1024 * 1024));
const PROXY_PAGE = `<!doctype html><html><body><h1>Sign in to the corporate proxy</h1>${'<p>lorem ipsum</p>'.repeat(200)}</body></html>`;

describe('a Twilio API that misbehaves when a WhatsApp part is sent', () => {
  let fake: FakeTwilio;
  let adapter: Adapter<WhatsAppDetails>;
  let store: MemoryStore;
  beforeEach(async () => {
    fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    const client = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: createTwilioHttpClient(fake.url), autoRetry: false });
    adapter = whatsappAdapter({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN], from: BOT_NUMBER, client });
    store = new MemoryStore();
  });
  afterEach(() => fake.close());

  const post = () => postReply(adapter, conversation, { text: 'the answer', kind: 'answer' }, { key: 'job-9:1', markers: store, logger: silentLogger });

  it("taken, answered with a proxy's HTML page: the retry finds it in the Messages list and sends nothing", async () => {
    fake.on((_call, n) => (n === 0 ? { status: 200, raw: PROXY_PAGE, taken: true } : undefined));
    const failed = await post().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(MaybePostedError);
    expect((failed as Error).message).toMatch(/answered 200 with an HTML page \(\d+ characters\)/);
    expect((failed as Error).message).not.toContain('corporate proxy');
    const again = await post();
    expect(fake.bodies()).toEqual(['the answer']);
    expect(again.ids).toEqual([fake.messages[0]!.sid]);
  });

  it('not taken, answered with a proxy page: the retry looks, finds nothing, and sends it once', async () => {
    fake.on((_call, n) => (n === 0 ? { status: 200, raw: PROXY_PAGE, taken: false } : undefined));
    await expect(post()).rejects.toBeInstanceOf(MaybePostedError);
    await post();
    expect(fake.lists).toHaveLength(1);
    expect(fake.messages.map((m) => m.body)).toEqual(['the answer']);
  });

  it('taken, answered with JSON without the SID: not counted as sent without one; the retry finds it', async () => {
    fake.on((_call, n) => (n === 0 ? { status: 201, body: { status: 'queued' }, taken: true } : undefined));
    await expect(post()).rejects.toThrow(/without a message SID/);
    const again = await post();
    expect(fake.calls).toHaveLength(1);
    expect(again.ids).toEqual([fake.messages[0]!.sid]);
  });

  it('a redirect is refused for good, naming where it pointed (a retry would meet it again)', async () => {
    fake.on(() => ({ status: 307, headers: { location: 'https://login.proxy.example/sso?next=/2010-04-01' }, body: {} }));
    const failed = await post().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(PermanentError);
    expect((failed as PermanentError).reason).toBe('twilio_redirect');
    expect((failed as Error).message).toContain('redirecting to https://login.proxy.example;');
  });

  it('an answer that decompresses past the bound: not read further; the send may have been taken, so it is looked for', async () => {
    fake.on((_call, n) => (n === 0 ? { status: 201, raw: GZIP_BOMB, taken: true, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } } : undefined));
    await expect(post()).rejects.toBeInstanceOf(MaybePostedError);
    await post();
    expect(fake.calls).toHaveLength(1);
  });
});
