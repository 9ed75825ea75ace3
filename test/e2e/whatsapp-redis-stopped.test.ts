/**
 * A WhatsApp bot whose Redis (a redis-server of the test's own) stops while it runs: its messages
 * are then answered in this process (Twilio never redelivers), and each one's work ends once its
 * reply is posted, not once its conversation-log write gets through to Redis (on the workers'
 * patient connection, which holds it for a minute or more). Twilio and the AI are faked over HTTP.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { whatsappTestEnv } from '../helpers/whatsapp-redis-down.js';
import { until } from '../helpers/until.js';

type Line = { msg: string; job?: string };
const SENDER = 'whatsapp:+15550000042';

let redis: PrivateRedis;
let twilioApi: FakeTwilio;
let ai: FakeOpenAi;
let bot: Bot;
let url: string;
const lines: Line[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis(['--appendonly', 'no']);
  twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}` }));
  const env = whatsappTestEnv(twilioApi, ai, { REDIS_URL: redis.url, REDIS_PREFIX: `stopped-${process.pid}` });
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)], logger });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.start();
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/twilio/whatsapp`;
}, 30_000);

afterAll(async () => {
  await bot?.close();
  await twilioApi?.close();
  await ai?.close();
  await redis?.stop();
}, 30_000);

const answeredHere = () => lines.filter((line) => line.msg === 'message answered' && line.job?.startsWith('inprocess.'));

describe('WhatsApp once its Redis has stopped', () => {
  it('a message answered in this process is done once its reply is posted: logged as answered, the next one answered too, and shutdown loses nothing', async () => {
    // Redis up: the worker's connection has written this message's log row, markers and spend.
    await postTwilio(url, whatsappMessage({ From: SENDER, Body: 'warm-up' }));
    await until(() => lines.some((line) => line.msg === 'message answered'), 'the warm-up answered');
    await redis.stop();

    expect((await postTwilio(url, whatsappMessage({ From: SENDER, Body: 'first during the outage' }))).status).toBe(200);
    expect((await postTwilio(url, whatsappMessage({ From: SENDER, Body: 'second during the outage' }))).status).toBe(200);
    await until(() => twilioApi.bodies().length >= 3, 'both replies', 15_000);
    expect(twilioApi.bodies()).toEqual(['echo: warm-up', 'echo: first during the outage', 'echo: second during the outage']);
    // Their conversation-log writes wait for Redis on the patient connection; the messages do not.
    await until(() => answeredHere().length >= 2, 'both messages answered in this process', 15_000);
    expect(answeredHere()).toHaveLength(2);
    // Nothing still running: the shutdown counts no message as lost.
    expect(await bot.close()).toEqual({ unfinished: 0 });
    expect(twilioApi.bodies()).toHaveLength(3);
  }, 60_000);
});
