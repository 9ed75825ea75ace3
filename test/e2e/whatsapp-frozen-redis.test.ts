/**
 * A WhatsApp message whose ack Redis runs late: a redis-server of the test's own is frozen
 * (SIGSTOP) around one webhook, so the ack's script waits past the fail-fast command deadline
 * (1.5 s) and Redis runs it once thawed. Twilio does not redeliver, but answering the message in
 * this process as well as the worker that takes it from the intake would answer it twice. A
 * bot with its worker in this process; Twilio and the AI are faked over HTTP.
 */
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { connectRedis, whenReady } from '../../src/store/index.js';
import { outcomeUnknown } from '../../src/take-again.js';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { whatsappTestEnv } from '../helpers/whatsapp-redis-down.js';
import { until } from '../helpers/until.js';

/** Nothing listens there: a Redis that is down. */
const CLOSED_PORT = 7051;
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
/** How long Redis stays frozen, counted from before the webhook: past the ack's 1.5 s deadline. */
const FREEZE_MS = 2500;

let redis: PrivateRedis;
let twilioApi: FakeTwilio;
let ai: FakeOpenAi;
let bot: Bot;
let url: string;
let closingEnv: Record<string, string>;

beforeAll(async () => {
  redis = await startPrivateRedis(['--appendonly', 'no']);
  twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}` }));
  const env = whatsappTestEnv(twilioApi, ai, { REDIS_URL: redis.url, REDIS_PREFIX: `frozen-${process.pid}`, SHUTDOWN_TIMEOUT_MS: '2000' });
  // Another bot's: a dead consumer's intake entries reclaimed after 3 s, and time to close in.
  closingEnv = { ...env, QUEUE_LOCK_MS: '3000', SHUTDOWN_TIMEOUT_MS: '10000' };
  bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)] });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.start();
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/twilio/whatsapp`;
}, 30_000);

afterAll(async () => {
  redis?.thaw();
  await bot?.close();
  await twilioApi?.close();
  await ai?.close();
  await redis?.stop();
}, 30_000);

const replies = (text: string) => twilioApi.bodies().filter((body) => body === `echo: ${text}`);
const duplicates = async () => /platform="whatsapp"} (\d+)$/m.exec(await bot.metrics.registry.getSingleMetricAsString('parley_duplicates_dropped_total'))?.[1] ?? '0';

describe('WhatsApp while Redis is frozen through the ack', () => {
  it('answers a message whose ack Redis runs after its deadline exactly once', async () => {
    // Connections open and scripts loaded: the frozen ack is the only slow step.
    await postTwilio(url, whatsappMessage({ Body: 'warm-up' }));
    await until(() => replies('warm-up').length === 1, 'the warm-up answer');

    const frozenAt = Date.now();
    redis.freeze();
    let res: Response;
    try {
      res = await postTwilio(url, whatsappMessage({ Body: 'during the freeze' }));
      expect(await res.text()).toBe(EMPTY_TWIML);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, frozenAt + FREEZE_MS - Date.now())));
    } finally {
      redis.thaw();
    }
    expect(res.status).toBe(200);
    await until(() => replies('during the freeze').length >= 1, 'the answer', 15_000);
    // Settled: the try again found the first step's claim (a duplicate), or a second answer came.
    await until(async () => (await duplicates()) === '1' || replies('during the freeze').length > 1, 'the message taken again, or a second answer', 15_000);
    expect(replies('during the freeze')).toEqual(['echo: during the freeze']);
    expect(ai.calls.filter((call) => lastUserText(call) === 'during the freeze')).toHaveLength(1);
  }, 40_000);

  it('a shutdown during the window the message is taken again in: the try again still reaches Redis, and the message is answered once (by the next process)', async () => {
    const env = { ...closingEnv, REDIS_PREFIX: `frozen-close-${process.pid}` };
    const start = async () => {
      const one = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)] });
      const server = await one.listen(0, '127.0.0.1');
      await one.start();
      return { bot: one, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/twilio/whatsapp` };
    };
    const first = await start();
    await postTwilio(first.url, whatsappMessage({ Body: 'warm-up before closing', From: 'whatsapp:+15550001111' }));
    await until(() => replies('warm-up before closing').length === 1, 'the warm-up answer');
    redis.freeze();
    try {
      expect((await postTwilio(first.url, whatsappMessage({ Body: 'frozen at SIGTERM', From: 'whatsapp:+15550001111' }))).status).toBe(200);
    } finally {
      setTimeout(() => redis.thaw(), 1000);
    }
    await first.bot.close(); // SIGTERM while the message is being taken again
    const next = await start(); // the process restarted, or another worker
    try {
      await until(() => replies('frozen at SIGTERM').length >= 1, 'the answer', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 4000)); // past the intake's reclaim (QUEUE_LOCK_MS) and any in-process answer
      expect(replies('frozen at SIGTERM')).toHaveLength(1);
    } finally {
      await next.bot.close();
    }
  }, 60_000);

  it('tells a command Redis never received from one it may have run', async () => {
    const down = connectRedis(`redis://127.0.0.1:${CLOSED_PORT}`);
    down.on('error', () => undefined);
    const frozen = connectRedis(redis.url);
    frozen.on('error', () => undefined);
    const admin = new Redis(redis.url);
    try {
      const refused = await down.set('k', '1').catch((error: unknown) => error);
      expect(outcomeUnknown(refused)).toBe(false);
      await whenReady(frozen);
      redis.freeze();
      const timedOut = await frozen.set('k', '1').catch((error: unknown) => error);
      redis.thaw();
      expect(String(timedOut)).toMatch(/timed out/);
      expect(outcomeUnknown(timedOut)).toBe(true);
      // Redis ran it all the same, once thawed.
      await until(async () => (await admin.get('k')) === '1', 'the timed-out SET to have run');
      const answered = await admin.incr('k').then(() => admin.hget('k', 'x')).catch((error: unknown) => error);
      expect(outcomeUnknown(answered)).toBe(false);
    } finally {
      redis.thaw();
      down.disconnect();
      frozen.disconnect();
      admin.disconnect();
    }
  }, 20_000);
});
