/**
 * An Intercom reply that Intercom takes but answers too late (past the client's request timeout):
 * the post failed as far as parley can tell, yet the customer has the answer. Intercom takes no
 * idempotency key, so after such a failure the part is marked "maybe posted" and the retry reads
 * the conversation (GET /conversations/{id}) for it — a comment by the bot's admin, made since the
 * post, whose body reads as the part's text — before posting it again. The customer gets it once.
 * A post that truly failed (an answered 500, a refused connection) is posted again without
 * looking. Queue mode on a real Redis; Intercom and the AI faked over HTTP; the client's timeout
 * shortened to keep the test quick.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { intercomAdapter, type IntercomAdapterOptions } from '../../adapters/intercom/index.js';
import type { IntercomDetails } from '../../adapters/intercom/inbound.js';
import { createBot, loadConfig, MaybePostedError, MemoryStore, type Adapter, type Bot } from '../../src/index.js';
import { postReply } from '../../src/replies.js';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom-api.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { DEFAULT_CLIENT_SECRET, conversationId, postIntercom, userCreated } from '../helpers/intercom-events.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';
import { silentLogger } from '../unit/helpers.js';

/** Long enough for the calls that must answer on a loaded CI machine; a delayed one waits it out. */
const TIMEOUT_MS = 1000;
const ADMIN = '991';
const TEAMMATE = '5150';
const TOKEN = 'dG9rOnBhcmxleS10ZXN0LXRva2Vu';
/** Markdown, so that the part is found by its text however its HTML reads. */
const answerTo = (text: string) => `**Echo**: ${text}\n\n- one\n- [two](https://example.com/two)`;

/** The Intercom adapter posting to `apiUrl`, giving a call up after TIMEOUT_MS. */
function adapterFor(apiUrl: string, options: Partial<IntercomAdapterOptions> = {}): Adapter<IntercomDetails> {
  return intercomAdapter({ accessToken: TOKEN, clientSecrets: [DEFAULT_CLIENT_SECRET], apiUrl, timeoutMs: TIMEOUT_MS, ...options });
}

async function startBot(prefix: string, ai: FakeOpenAi, adapter: Adapter<IntercomDetails>, env: Record<string, string> = {}): Promise<{ bot: Bot; url: string }> {
  const config = loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url, REDIS_URL, REDIS_PREFIX: prefix, CACHE_TTL_SECONDS: '0', RATE_LIMIT_USER_PER_MINUTE: '0', ...env });
  const bot = createBot({ config, adapters: [adapter] });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.ready;
  return { bot, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/intercom/webhook` };
}

/** Replies delivered so far (posted, or found posted). */
async function delivered(bot: Bot): Promise<number> {
  return (await bot.metrics.repliesSent.get()).values.reduce((sum, v) => sum + v.value, 0);
}

describe('queue mode on Redis: an Intercom reply answered too late', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let fake: FakeIntercom;
  let ai: FakeOpenAi;
  let adapter: Adapter<IntercomDetails>;
  let bot: Bot;
  let url: string;
  beforeAll(async () => {
    fake = await startFakeIntercom({ adminId: ADMIN });
    ai = await startFakeOpenAi((call) => ({ text: answerTo(lastUserText(call)) }));
    adapter = adapterFor(fake.url);
    ({ bot, url } = await startBot(prefix, ai, adapter));
  });
  afterAll(async () => {
    await bot?.close();
    await fake?.close();
    await ai?.close();
  });
  afterEach(() => fake.reset());

  /** The customer writes `text` in a new conversation; resolves once the bot's answer is delivered. */
  async function customerWrites(text: string): Promise<string> {
    const conversation = conversationId();
    const before = await delivered(bot);
    const res = await postIntercom(url, userCreated({ conversation, body: `<p>${text}</p>` }));
    expect(res.status).toBe(200);
    await until(async () => (await delivered(bot)) > before, 'the reply to be delivered', 15_000); // a 5xx is waited 5 s
    return conversation;
  }
  const replies = (conversation: string) => fake.callsTo('reply').filter((c) => c.conversationId === conversation);
  const looks = (conversation: string) => fake.callsTo('conversation').filter((c) => c.conversationId === conversation);

  it('taken by Intercom: the retry finds it in the conversation and posts nothing more', async () => {
    fake.on('reply', (_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS * 4 } : undefined));
    const conversation = await customerWrites('hello once');
    expect(fake.partsOf(conversation)).toHaveLength(1); // one answer reached the customer
    expect(replies(conversation)).toHaveLength(1);
    expect(looks(conversation)).toHaveLength(1); // the retry looked before posting
  });

  it('not taken (the connection cut after the reply was sent): the retry looks, finds nothing and posts it once', async () => {
    fake.on('reply', (_call, n) => (n === 0 ? { hangUp: true } : undefined));
    const conversation = await customerWrites('cut off');
    expect(replies(conversation)).toHaveLength(2);
    expect(fake.partsOf(conversation)).toHaveLength(1);
    expect(looks(conversation)).toHaveLength(1);
  });

  it('an answer that says it failed (a 500) is no "maybe": the retry posts again without looking', async () => {
    fake.on('reply', (_call, n) => (n === 0 ? { status: 500 } : undefined));
    const conversation = await customerWrites('server error');
    expect(replies(conversation)).toHaveLength(2);
    expect(fake.partsOf(conversation)).toHaveLength(1);
    expect(looks(conversation)).toHaveLength(0);
  });

  describe('what counts as the part looked for', () => {
    const ref = (conversation: string) => ({ platform: 'intercom', id: conversation, details: { conversationId: conversation } });
    const post = (conversation: string, text: string, store: MemoryStore, key = 'job-7:1') =>
      postReply(adapter, ref(conversation), { text, kind: 'answer' }, { key, markers: store, logger: silentLogger });

    it('an earlier reply with other text is not it', async () => {
      const conversation = conversationId();
      const store = new MemoryStore();
      await post(conversation, 'an earlier reply', store, 'job-6:1');
      fake.on('reply', (_call, n) => (n === 1 ? { hangUp: true } : undefined));
      await expect(post(conversation, 'the answer', store)).rejects.toBeInstanceOf(MaybePostedError);
      await post(conversation, 'the answer', store);
      expect(fake.partsOf(conversation).map((p) => p.body)).toEqual(['<p>an earlier reply</p>', '<p>the answer</p>']);
    });

    it("a teammate's comment with the same text is not it", async () => {
      const conversation = conversationId();
      const store = new MemoryStore();
      const teammate = await fetch(`${fake.url}/conversations/${conversation}/reply`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message_type: 'comment', type: 'admin', admin_id: TEAMMATE, body: '<p>the answer</p>' }),
      });
      expect(teammate.status).toBe(200);
      fake.on('reply', (_call, n) => (n === 1 ? { hangUp: true } : undefined));
      await expect(post(conversation, 'the answer', store)).rejects.toBeInstanceOf(MaybePostedError);
      const again = await post(conversation, 'the answer', store);
      expect(fake.partsOf(conversation).map((p) => (p.author as { id: string }).id)).toEqual([TEAMMATE, ADMIN]);
      expect(again.ids).toEqual([fake.partsOf(conversation)[1]!.id]);
    });

    it('taken, and found by its text: the id is the part Intercom made, kept on record (a third run neither looks nor posts)', async () => {
      const conversation = conversationId();
      const store = new MemoryStore();
      fake.on('reply', (_call, n) => (n === 0 ? { delayMs: TIMEOUT_MS * 4 } : undefined));
      await expect(post(conversation, answerTo('x'), store)).rejects.toBeInstanceOf(MaybePostedError);
      const again = await post(conversation, answerTo('x'), store);
      expect(again.ids).toEqual([fake.partsOf(conversation)[0]!.id]);
      await post(conversation, answerTo('x'), store);
      expect(replies(conversation)).toHaveLength(1);
      expect(looks(conversation)).toHaveLength(1);
    });
  });
});

describe('queue mode on Redis: an Intercom reply whose connection is refused', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let ai: FakeOpenAi;
  let bot: Bot | undefined;
  let fake: FakeIntercom | undefined;
  beforeAll(async () => {
    ai = await startFakeOpenAi((call) => ({ text: answerTo(lastUserText(call)) }));
  });
  afterAll(async () => {
    await bot?.close();
    await fake?.close();
    await ai?.close();
  });

  it('never reached Intercom: no "maybe", the retry posts it without looking', async () => {
    const port = await freePort();
    // The admin named, so that starting needs no GET /me; retries far enough apart to start Intercom in between.
    const started = await startBot(prefix, ai, adapterFor(`http://127.0.0.1:${port}`, { adminId: ADMIN }), { JOB_BACKOFF_MS: '500', JOB_ATTEMPTS: '6' });
    bot = started.bot;
    const conversation = conversationId();
    const res = await postIntercom(started.url, userCreated({ conversation, body: '<p>refused</p>' }));
    expect(res.status).toBe(200);
    await until(async () => (await started.bot.metrics.jobDuration.get()).values.some((v) => v.metricName === 'parley_job_duration_seconds_count' && v.labels.outcome === 'retry' && v.value > 0), 'a failed attempt');
    fake = await startFakeIntercom({ adminId: ADMIN, port });
    await until(async () => (await delivered(started.bot)) > 0, 'the reply to be delivered');
    expect(fake.callsTo('reply')).toHaveLength(1);
    expect(fake.partsOf(conversation)).toHaveLength(1);
    expect(fake.callsTo('conversation')).toHaveLength(0);
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
