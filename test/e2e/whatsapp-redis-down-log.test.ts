/**
 * WhatsApp messages answered in this process while Redis is down: every one is answered, and the
 * log says so once (then once a minute, with how many were left out), where each message wrote its
 * own warn line with ioredis's error and stack (a chaos run: 128 of them in a 15 s Redis restart).
 * Redis is a closed port for the whole file; Twilio and the AI are faked over HTTP.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { REDIS_DOWN, whatsappTestEnv } from '../helpers/whatsapp-redis-down.js';
import { until } from '../helpers/until.js';

type Line = { msg: string; level: number; leftOut?: number; requestId?: string };
const NOT_TAKEN = 'could not take the message; answering in this process since the platform will not redeliver';

let twilioApi: FakeTwilio;
let ai: FakeOpenAi;
let bot: Bot;
let url: string;
const lines: Line[] = [];

beforeAll(async () => {
  twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  ai = await startFakeOpenAi();
  const env = whatsappTestEnv(twilioApi, ai, { REDIS_URL: REDIS_DOWN });
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)], logger });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.start();
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/twilio/whatsapp`;
}, 30_000);

afterAll(async () => {
  await bot?.close();
  await twilioApi?.close();
  await ai?.close();
}, 30_000);

describe('WhatsApp while Redis is down: the log of messages answered in this process', () => {
  it('five senders are all answered; one warn line says so, the others at debug with their request ids', async () => {
    const senders = Array.from({ length: 5 }, (_, i) => `whatsapp:+1555000031${i}`);
    for (const [i, sender] of senders.entries()) {
      const posted = await postTwilio(url, whatsappMessage({ From: sender, Body: `question ${i}` }), { headers: { 'x-request-id': `outage-${i}` } });
      expect(posted.status).toBe(200);
    }
    await until(() => twilioApi.calls.length >= 5 || undefined, 'five replies', 20_000);
    expect(twilioApi.bodies().sort()).toEqual(senders.map((_, i) => `echo: question ${i}`));
    const notTaken = lines.filter((line) => line.msg === NOT_TAKEN);
    expect(notTaken.filter((line) => line.level === 40)).toHaveLength(1);
    // Still traceable, a message at a time, at debug.
    expect(notTaken.map((line) => line.requestId).sort()).toEqual(senders.map((_, i) => `outage-${i}`));
  }, 60_000);
});
