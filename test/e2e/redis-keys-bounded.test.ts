/**
 * What a bot leaves in Redis after the flows a production user meets (answered messages, thread
 * follow-ups, a redelivery, a user over the rate limit and its notice, a cached answer, budgets and
 * the console's tallies, an AI failure ending in a dead letter and its apology; the web chat's, and
 * WhatsApp's and Intercom's answers, a status callback and a teammate's takeover): every key either
 * expires or is one of the few the README names as kept (BullMQ's own, whose finished jobs are
 * capped by removeOnComplete and whose dead letters stay until replayed, dropped or purged; the
 * intake stream, emptied as it is moved; the turnstile's counter; a budget limit set in the console,
 * which is configuration). A key added without a TTL fails
 * here, so growth per message, conversation, user or day cannot creep in unnoticed.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { startFakeIntercom } from '../fakes/intercom-api.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeTwilio } from '../fakes/twilio-api.js';
import { DEFAULT_CLIENT_SECRET, adminReplied, conversationId, part, postIntercom, userCreated, userReplied } from '../helpers/intercom-events.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, statusCallback, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { assistantReplies, startWebBot, testEnv } from '../helpers/web-bot.js';
import { appMention, directMessage, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, keysWithPrefix, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const prefix = uniquePrefix();
const ADMIN = 'redis-keys-admin-token-0b7e42';
const redis = useRedis(prefix);

describe('Redis keys after a day of traffic in miniature: each expires, or is one the README names as kept', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let bot: SlackBot;
  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi((call) => (lastUserText(call).startsWith('fail') ? { status: 503 } : { text: `re: ${lastUserText(call)}` }));
    bot = await startSlackBot(slack, ai, {
      REDIS_URL,
      REDIS_PREFIX: prefix,
      RATE_LIMIT_USER_PER_MINUTE: '2',
      RATE_LIMIT_CONVERSATION_PER_MINUTE: '50',
      RATE_LIMIT_TENANT_PER_MINUTE: '500',
      AI_CALLS_PER_MINUTE: '500',
      AI_PRICES: '{"gpt-4o-mini":{"input":1,"output":1}}',
      AI_BUDGET_USD_PER_TENANT_PER_DAY: '100',
      AI_BUDGET_USD_PER_MONTH: '1000',
      JOB_ATTEMPTS: '2',
      AI_ATTEMPTS: '1',
      ADMIN_TOKEN: ADMIN,
    });
  });
  afterAll(async () => {
    await bot?.close();
    await slack?.close();
    await ai?.close();
  });

  it('every key has a TTL except BullMQ\'s, the intake, the turnstile\'s counter and a budget limit set in the console; finished jobs are capped', async () => {
    for (let i = 0; i < 3; i++) {
      const mention = appMention({ text: `question ${i}`, channel: `CK${i}`, user: `UK${i}` });
      await postSlack(bot.url, mention);
      await postSlack(bot.url, mention, { retryNum: 1 });
      await postSlack(bot.url, appMention({ text: `follow-up ${i}`, channel: `CK${i}`, user: `UK${i}`, threadTs: mention.event.ts as string }));
    }
    for (let i = 0; i < 2; i++) await postSlack(bot.url, directMessage({ text: 'the same question', user: `UC${i}`, channel: `DC${i}` }));
    for (let i = 0; i < 4; i++) await postSlack(bot.url, directMessage({ text: `flood ${i}`, user: 'UFLOOD', channel: 'DFLOOD' }));
    await postSlack(bot.url, directMessage({ text: 'fail for good', user: 'UFAIL', channel: 'DFAIL' }));
    // An operator raises a budget in the console.
    const raised = await fetch(`${bot.base}/console/api/budgets/limit`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ limit: 'dayUsd', usd: 25 }) });
    expect(raised.status).toBe(200);
    // 6 answers, 2 for the same question, 2 of the flood, its notice, the apology
    await until(() => slack.callsTo('chat.postMessage').length >= 12, 'every reply, notice and apology', 20_000);
    await until(async () => (await bot.bot.deadLetters.list()).length === 1, 'the dead letter', 20_000);

    const admin = redis.admin();
    // The kinds this traffic makes, so the check below looks at them (the console's minute tally is
    // written every few seconds, not with the message).
    const kinds = [':history:', ':convlog:c:', ':convlog:recent', ':sent:', ':slack:thread:', ':spend:day:', ':spend:month:', ':ops:minute:', ':turn-limit:user:', ':turn-notice:user:', ':ai-cache:', ':budget:limit:'];
    let keys: string[] = [];
    const eachKind = async () => {
      keys = await keysWithPrefix(admin, prefix);
      return kinds.every((kind) => keys.some((key) => key.includes(kind)));
    };
    // Waited for; a kind still missing then is named by the check after the TTLs.
    await until(eachKind, 'a key of each kind', 20_000).catch(() => undefined);
    // A budget limit set in the console is configuration (four keys at most), kept until set back to the environment's.
    const kept = [`${prefix}:messages:`, `${prefix}:intake`, `${prefix}:turn:seq`, `${prefix}:parley:budget:limit:`];
    const ttls = await Promise.all(keys.map(async (key) => [key, await admin.pttl(key)] as const));
    // -2: expired between SCAN and PTTL
    expect(ttls.filter(([key, ttl]) => ttl === -1 && !kept.some((k) => key.startsWith(k)))).toEqual([]);
    for (const kind of kinds) expect(keys.some((key) => key.includes(kind)), kind).toBe(true);
    // BullMQ's finished jobs: capped by age and count, dead letters kept (README: until replayed, dropped or purged).
    const completed = await admin.zrange(`${prefix}:messages:completed`, 0, -1);
    expect(completed.length).toBeGreaterThan(0);
    const opts = JSON.parse((await admin.hget(`${prefix}:messages:${completed[0]}`, 'opts')) ?? '{}') as { removeOnComplete?: unknown; removeOnFail?: unknown };
    expect(opts.removeOnComplete).toEqual({ age: 24 * 3600, count: 10_000 });
    expect(await admin.zcard(`${prefix}:messages:failed`)).toBe(1);
  }, 60_000);

  it("the web chat's keys too: its transcripts, sessions and its answers' cache keys (noted for an erase) all expire", async () => {
    const webPrefix = uniquePrefix();
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, REDIS_URL, REDIS_PREFIX: webPrefix });
    const admin = redis.admin();
    try {
      expect((await web.post('web-visitor', 'a web question', { id: 'web-question-0001' })).status).toBe(202);
      await web.waitFor('web-visitor', (entries) => assistantReplies(entries).length === 1);
      const keys = await until(async () => {
        const found = await keysWithPrefix(admin, webPrefix);
        return found.some((key) => key.includes(':answer-keys:')) ? found : undefined;
      }, "the answer's cache key noted");
      const kept = [`${webPrefix}:messages:`, `${webPrefix}:intake`, `${webPrefix}:turn:seq`];
      const ttls = await Promise.all(keys.map(async (key) => [key, await admin.pttl(key)] as const));
      expect(ttls.filter(([key, ttl]) => ttl === -1 && !kept.some((k) => key.startsWith(k)))).toEqual([]);
    } finally {
      await web.bot.close();
      for (const key of await keysWithPrefix(admin, webPrefix)) await admin.del(key);
    }
  }, 30_000);
  it("WhatsApp's and Intercom's keys too: their sent parts, status callbacks, dedupe claims and a teammate's takeover all expire", async () => {
    const ownPrefix = uniquePrefix();
    const twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    const intercom = await startFakeIntercom();
    const env = {
      ...testEnv,
      OPENAI_BASE_URL: ai.url,
      REDIS_URL,
      REDIS_PREFIX: ownPrefix,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_WHATSAPP_FROM: BOT_NUMBER,
      TWILIO_API_URL: twilio.url,
      INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu',
      INTERCOM_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
      INTERCOM_API_URL: intercom.url,
    };
    const both = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!), intercomAdapter(intercomConfigFromEnv(env)!)] });
    const admin = redis.admin();
    try {
      const server = await both.listen(0, '127.0.0.1');
      await both.ready;
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (let i = 0; i < 2; i++) expect((await postTwilio(`${base}/twilio/whatsapp`, whatsappMessage({ From: `whatsapp:+1555010000${i}`, Body: `whatsapp question ${i}` }))).status).toBe(200);
      expect((await postTwilio(`${base}/twilio/whatsapp`, statusCallback('undelivered'))).status).toBe(200);
      const conversation = conversationId();
      expect((await postIntercom(`${base}/intercom/webhook`, userCreated({ conversation, body: 'intercom question' }))).status).toBe(200);
      await until(() => intercom.callsTo('reply').length >= 1 && twilio.messages.length >= 2, 'the WhatsApp and Intercom answers', 20_000);
      expect((await postIntercom(`${base}/intercom/webhook`, userReplied({ conversation, parts: [part('intercom follow-up')] }))).status).toBe(200);
      await until(() => intercom.callsTo('reply').length >= 2, 'the follow-up answer', 20_000);
      // A teammate takes over: the bot steps aside from this conversation.
      expect((await postIntercom(`${base}/intercom/webhook`, adminReplied({ conversation, adminId: '5150' }))).status).toBe(200);
      const kinds = [':parley:whatsapp:part:', ':parley:whatsapp:undelivered:', ':parley:history:whatsapp:', ':parley:intercom:part:', ':parley:intercom:stopped:', ':parley:history:intercom:', ':turn-claim:seen:'];
      const keys = await until(async () => {
        const found = await keysWithPrefix(admin, ownPrefix);
        return kinds.every((kind) => found.some((key) => key.includes(kind))) ? found : undefined;
      }, 'a key of each kind', 20_000);
      const kept = [`${ownPrefix}:messages:`, `${ownPrefix}:intake`, `${ownPrefix}:turn:seq`];
      const ttls = await Promise.all(keys.map(async (key) => [key, await admin.pttl(key)] as const));
      expect(ttls.filter(([key, ttl]) => ttl === -1 && !kept.some((k) => key.startsWith(k)))).toEqual([]);
    } finally {
      await both.close();
      await twilio.close();
      await intercom.close();
      for (const key of await keysWithPrefix(admin, ownPrefix)) await admin.del(key);
    }
  }, 60_000);
});
