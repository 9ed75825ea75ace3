/**
 * A reply Twilio took and then could not deliver is reported only in a status callback (`failed`
 * or `undelivered`, with an ErrorCode): signed callbacks through the real adapter are counted in
 * parley_replies_undelivered_total{platform, code} on /metrics, once per MessageSid
 * (Twilio may post one again), with the code bounded as other outside values are.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { MAX_OUTSIDE_VALUES } from '../../src/observe/label-values.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, statusCallback, type Form } from '../helpers/twilio-webhooks.js';
import { testEnv } from '../helpers/web-bot.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const NAME = 'parley_replies_undelivered_total';
const twilioEnv = { ...testEnv, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: 'http://127.0.0.1:9' };

/** A bot on its own port; no request reaches Twilio's API here, only callbacks come in. */
async function startBot(env: Record<string, string>, logger = pino({ level: 'silent' })): Promise<{ bot: Bot; origin: string }> {
  const bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)], logger, worker: false });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.ready;
  return { bot, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function post(origin: string, form: Form): Promise<void> {
  const res = await postTwilio(`${origin}/twilio/whatsapp`, form);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe(EMPTY_TWIML);
}

/** The counter's samples on /metrics, code → value. */
async function undeliveredAt(origin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const pattern = new RegExp(`^${NAME}\\{platform="whatsapp",code="([^"]*)"\\} (\\d+)$`, 'gm');
  return new Map([...text.matchAll(pattern)].map(([, code, value]) => [code!, Number(value)]));
}

const callback = (status: string, errorCode?: string, sid?: string): Form => {
  const form = statusCallback(status);
  return { ...form, ...(sid ? { MessageSid: sid, SmsSid: sid } : {}), ...(errorCode ? { ErrorCode: errorCode } : {}) };
};

describe('WhatsApp: replies Twilio reports it could not deliver', () => {
  let bot: Bot;
  let origin: string;
  const lines: { level: number; msg: string; errorCode?: string }[] = [];
  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    ({ bot, origin } = await startBot(twilioEnv, logger));
  });
  afterAll(async () => {
    await bot.close();
  });
  const undelivered = () => undeliveredAt(origin);

  it('counts a failed or undelivered reply by its error code, once per MessageSid (one reply reported failed, then undelivered, is one); other statuses not at all', async () => {
    for (const status of ['queued', 'sent', 'delivered', 'read']) await post(origin, callback(status));
    const outside = callback('undelivered', '63016');
    await post(origin, outside);
    // Twilio posting the same callback again: counted once.
    await post(origin, outside);
    await post(origin, callback('failed', '63016', outside.MessageSid));
    await post(origin, callback('undelivered', '63016'));
    await post(origin, callback('undelivered', '30008'));
    await post(origin, callback('failed'));
    expect(await undelivered()).toEqual(new Map([['63016', 2], ['30008', 1], ['none', 1]]));
    const warned = lines.filter((line) => line.level === 40 && line.msg === 'Twilio could not deliver a reply');
    expect(warned.map((line) => line.errorCode)).toEqual(['63016', '63016', '30008', undefined]);
  });

  it('a flood of odd codes adds at most MAX_OUTSIDE_VALUES series, then `other`; every callback still counted', async () => {
    const before = [...(await undelivered()).values()].reduce((sum, n) => sum + n, 0);
    for (let i = 0; i < 40; i++) await post(origin, callback('undelivered', `9${String(i).padStart(4, '0')}`));
    await post(origin, callback('undelivered', `not a code ${'x'.repeat(300)}`));
    const counts = await undelivered();
    // 63016 and 30008 from the test above took two of the places; `none` is parley's own.
    expect(counts.size).toBe(MAX_OUTSIDE_VALUES + 2);
    expect(counts.get('none')).toBe(1);
    expect(counts.get('other')).toBe(40 - (MAX_OUTSIDE_VALUES - 2) + 1);
    expect([...counts.values()].reduce((sum, n) => sum + n, 0)).toBe(before + 41);
  });
});

describe('WhatsApp: a callback Twilio posts again to another process', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);

  it('is counted once by the processes sharing Redis', async () => {
    const env = { ...twilioEnv, REDIS_URL, REDIS_PREFIX: prefix };
    const [a, b] = [await startBot(env), await startBot(env)];
    try {
      const again = callback('undelivered', '63024');
      await post(a.origin, again);
      await post(b.origin, again);
      const counted = [...(await undeliveredAt(a.origin)).values(), ...(await undeliveredAt(b.origin)).values()];
      expect(counted).toEqual([1]);
    } finally {
      await Promise.all([a.bot.close(), b.bot.close()]);
    }
  });
});
