/**
 * A WhatsApp send that Twilio takes but answers too late (past the client's request timeout): the
 * send failed as far as parley can tell, yet the person has the message. Twilio takes no
 * idempotency key, so after such a timeout the part is marked "maybe posted" and the retry looks
 * for it in the Messages list (same sender, same person, same body, created since the send;
 * also from the configured sender, which older versions sent from, when that is another number)
 * before sending it again. The person gets it once. A send that truly failed (a refused
 * connection, an answered 5xx) is sent again without looking. Twilio faked over HTTP; the
 * client's timeout shortened to keep the test quick.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTwilioHttpClient, whatsappAdapter, type WhatsAppDetails } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, MaybePostedError, MemoryStore, type Adapter, type Bot } from '../../src/index.js';
import { postReply } from '../../src/replies.js';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, SECOND_BOT_NUMBER, USER_NUMBER, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';
import { silentLogger } from '../unit/helpers.js';

/** Long enough for the calls that must answer on a loaded CI machine; a delayed one waits it out. */
const TIMEOUT_MS = 1000;
const conversation = { platform: 'whatsapp', id: `${BOT_NUMBER}:${USER_NUMBER}`, details: { from: USER_NUMBER, to: BOT_NUMBER } };

const SERVICE = `MG${'b2'.repeat(16)}`;

/** The WhatsApp adapter sending to `apiUrl` (from BOT_NUMBER, or through SERVICE), giving a request up after TIMEOUT_MS. */
function adapterFor(apiUrl: string, sender: { from: string } | { messagingServiceSid: string } = { from: BOT_NUMBER }): Adapter<WhatsAppDetails> {
  const client = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: createTwilioHttpClient(apiUrl, { timeoutMs: TIMEOUT_MS }), autoRetry: false });
  return whatsappAdapter({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN], ...sender, client });
}

describe('a WhatsApp reply part Twilio answers too late', () => {
  let fake: FakeTwilio;
  let adapter: Adapter<WhatsAppDetails>;
  let store: MemoryStore;
  beforeEach(async () => {
    fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    adapter = adapterFor(fake.url);
    store = new MemoryStore();
  });
  afterEach(() => fake.close());

  const post = (text = 'the answer', to = conversation) => postReply(adapter, to, { text, kind: 'answer' }, { key: 'job-7:1', markers: store, logger: silentLogger });
  /** The person wrote to the account's second number; BOT_NUMBER is the configured one. */
  const toSecond = { platform: 'whatsapp', id: `${SECOND_BOT_NUMBER}:${USER_NUMBER}`, details: { from: USER_NUMBER, to: SECOND_BOT_NUMBER } };

  it('taken by Twilio: the retry finds it in the Messages list and sends nothing', async () => {
    fake.on((_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS * 4 } : undefined));
    await expect(post()).rejects.toBeInstanceOf(MaybePostedError);
    const again = await post();
    expect(fake.bodies()).toEqual(['the answer']); // one message reached the person
    expect(fake.lists).toHaveLength(1); // it looked, for this person and from this sender
    expect(Object.fromEntries(fake.lists[0]!)).toMatchObject({ To: USER_NUMBER, From: BOT_NUMBER });
    expect(again.ids).toEqual([fake.messages[0]!.sid]);
    // On record now: a third run neither looks nor sends.
    await post();
    expect(fake.calls).toHaveLength(1);
    expect(fake.lists).toHaveLength(1);
  });

  it('an answer sent as written (a bare `#` shows nothing once formatted): the retry finds it and sends nothing', async () => {
    fake.on((_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS * 4 } : undefined));
    await expect(post('#')).rejects.toBeInstanceOf(MaybePostedError);
    const again = await post('#');
    expect(fake.bodies()).toEqual(['#']);
    expect(fake.lists).toHaveLength(1);
    expect(again.ids).toEqual([fake.messages[0]!.sid]);
  });

  it('sent from the second number the person wrote to: looked for from that number, and not sent again', async () => {
    fake.on((_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS * 4 } : undefined));
    await expect(post('the answer', toSecond)).rejects.toBeInstanceOf(MaybePostedError);
    const again = await post('the answer', toSecond);
    expect(fake.calls.map((c) => c.form)).toEqual([{ To: USER_NUMBER, Body: 'the answer', From: SECOND_BOT_NUMBER }]);
    expect(fake.lists).toHaveLength(1); // found there: the configured number is not looked at
    expect(Object.fromEntries(fake.lists[0]!)).toMatchObject({ To: USER_NUMBER, From: SECOND_BOT_NUMBER });
    expect(again.ids).toEqual([fake.messages[0]!.sid]);
  });

  it('sent by an older version (from the configured number) and retried by this one for the second number: found there, not sent again', async () => {
    // Details without `to` (a cast: the type requires it) are sent from the configured BOT_NUMBER, as every part was before replySender.
    const fromOlder = { ...toSecond, details: { from: USER_NUMBER } as WhatsAppDetails };
    fake.on((_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS * 4 } : undefined));
    await expect(post('the answer', fromOlder)).rejects.toBeInstanceOf(MaybePostedError);
    const again = await post('the answer', toSecond);
    expect(fake.calls.map((c) => c.form)).toEqual([{ To: USER_NUMBER, Body: 'the answer', From: BOT_NUMBER }]);
    expect(fake.lists.map((q) => q.get('From'))).toEqual([SECOND_BOT_NUMBER, BOT_NUMBER]);
    expect(again.ids).toEqual([fake.messages[0]!.sid]);
  });

  it('for the second number, not taken: looked for from both numbers, then sent once', async () => {
    fake.on((_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS / 3, hangUp: true } : undefined));
    await expect(post('the answer', toSecond)).rejects.toBeInstanceOf(MaybePostedError);
    await post('the answer', toSecond);
    expect(fake.bodies()).toEqual(['the answer', 'the answer']);
    expect(fake.messages).toHaveLength(1);
    expect(fake.lists.map((q) => q.get('From'))).toEqual([SECOND_BOT_NUMBER, BOT_NUMBER]);
  });

  it('sent through a Messaging Service (it picks the sender: a queued message has no From yet), to any number written to: found by the service', async () => {
    adapter = adapterFor(fake.url, { messagingServiceSid: SERVICE });
    fake.on((_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS * 4 } : undefined));
    await expect(post('the answer', toSecond)).rejects.toBeInstanceOf(MaybePostedError);
    await post('the answer', toSecond);
    expect(fake.calls.map((c) => c.form)).toEqual([{ To: USER_NUMBER, Body: 'the answer', MessagingServiceSid: SERVICE }]);
    expect(Object.fromEntries(fake.lists[0]!)).not.toHaveProperty('From');
  });

  it('taken, and the retry brings another answer: the first one is the one looked for, and is not sent again', async () => {
    fake.on((_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS * 4 } : undefined));
    await expect(post('FIRST answer')).rejects.toBeInstanceOf(MaybePostedError);
    const again = await post('SECOND answer');
    expect(fake.bodies()).toEqual(['FIRST answer']);
    expect(again.finished).toBe('FIRST answer');
  });

  it('an earlier message of the conversation with other text is not taken for it', async () => {
    await postReply(adapter, conversation, { text: 'an earlier reply', kind: 'answer' }, { key: 'job-6:1', markers: store });
    fake.on((_call, n) => (n === 1 ? { delayMs: TIMEOUT_MS * 4, hangUp: true } : undefined));
    await expect(post()).rejects.toBeInstanceOf(MaybePostedError);
    await post();
    expect(fake.bodies()).toEqual(['an earlier reply', 'the answer', 'the answer']); // not taken the first time: sent again
    expect(fake.lists).toHaveLength(1);
  });

  it('not taken (the connection cut after the send, no message made): the retry looks, finds nothing and sends it once', async () => {
    fake.on((_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS / 3, hangUp: true } : undefined));
    await expect(post()).rejects.toBeInstanceOf(MaybePostedError);
    await post();
    expect(fake.bodies()).toEqual(['the answer', 'the answer']);
    expect(fake.messages).toHaveLength(1);
    expect(fake.lists).toHaveLength(1);
  });

  it('an answer that says it failed (a 500) is no "maybe": the retry sends again without looking', async () => {
    fake.on((_call, n) => (n === 0 ? fake.error(500, 20500, 'Internal Server Error') : undefined));
    await expect(post()).rejects.not.toBeInstanceOf(MaybePostedError);
    await post();
    expect(fake.bodies()).toEqual(['the answer', 'the answer']);
    expect(fake.messages).toHaveLength(1);
    expect(fake.lists).toHaveLength(0);
  });
});

describe('a WhatsApp send whose connection is refused', () => {
  it('never reached Twilio: no "maybe", the retry sends it without looking', async () => {
    const port = await freePort();
    const adapter = adapterFor(`http://127.0.0.1:${port}`);
    const store = new MemoryStore();
    const post = () => postReply(adapter, conversation, { text: 'the answer', kind: 'answer' }, { key: 'job-9:1', markers: store, logger: silentLogger });
    const refused = await post().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).not.toBeInstanceOf(MaybePostedError);
    expect((refused as Error).message).toMatch(/ECONNREFUSED/);
    const fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN }, port);
    try {
      await post();
      expect(fake.bodies()).toEqual(['the answer']);
      expect(fake.lists).toHaveLength(0);
    } finally {
      await fake.close();
    }
  });
});

describe('queue mode on Redis: a reply Twilio answers after the timeout', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let fake: FakeTwilio;
  let ai: FakeOpenAi;
  let bot: Bot;
  let url: string;
  beforeAll(async () => {
    fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}` }));
    const config = loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url, REDIS_URL, REDIS_PREFIX: prefix, CACHE_TTL_SECONDS: '0' });
    bot = createBot({ config, adapters: [adapterFor(fake.url)] });
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/twilio/whatsapp`;
  });
  afterAll(async () => {
    await bot?.close();
    await fake?.close();
    await ai?.close();
  });

  it('is not sent again when the job is retried: the person gets it once', async () => {
    fake.on((_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS * 4 } : undefined));
    const res = await postTwilio(url, whatsappMessage({ Body: 'hello once' }));
    expect(res.status).toBe(200);
    // Counted once the reply is delivered (sent, or found sent): nothing of it is sent after that.
    await until(async () => (await bot.metrics.repliesSent.get()).values.some((v) => v.value > 0), 'the reply to be delivered');
    expect(fake.bodies()).toEqual(['echo: hello once']);
    expect(fake.messages).toHaveLength(1);
    expect(fake.lists).toHaveLength(1); // the retry looked before sending
  });
});

/** A loopback port nothing listens on (found free, then closed). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
