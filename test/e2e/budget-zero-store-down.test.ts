/**
 * A $0 budget limit set in the console (an operator stopping AI spend) holds while Redis is down:
 * the spend cannot be read then, and any other limit cannot be checked (the call goes ahead), but
 * $0 needs no count. WhatsApp is the platform answered during the outage (Twilio never redelivers:
 * the message is answered in this process). A private redis-server, stopped mid-test; Twilio and
 * the AI faked over HTTP.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { ACCOUNT_SID, AUTH_TOKEN, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { until } from '../helpers/until.js';
import { whatsappTestEnv } from '../helpers/whatsapp-redis-down.js';

const TOKEN = 'budget-zero-store-down-token-7d1e';
const NOTICE = 'The AI budget is spent for today.';

describe('a $0 budget limit set in the console, Redis down (WhatsApp answered in this process)', () => {
  let redis: PrivateRedis;
  let twilioApi: FakeTwilio;
  let ai: FakeOpenAi;
  let bot: Bot;
  let base: string;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}` }));
    const env = whatsappTestEnv(twilioApi, ai, { REDIS_URL: redis.url, ADMIN_TOKEN: TOKEN, AI_BUDGET_NOTICE: NOTICE, RATE_LIMIT_USER_PER_MINUTE: '0', CACHE_TTL_SECONDS: '0' });
    bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)] });
    const server = await bot.listen(0, '127.0.0.1');
    await bot.start();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 30_000);
  afterAll(async () => {
    await bot?.close();
    await twilioApi?.close();
    await ai?.close();
    await redis?.stop();
  }, 30_000);

  it('posts the budget notice, not an AI answer, while the spend cannot be read', async () => {
    const set = await fetch(`${base}/console/api/budgets/limit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ limit: 'AI_BUDGET_USD_PER_DAY', usd: 0 }),
    });
    expect(set.status).toBe(200);
    await redis.stop();
    expect((await postTwilio(`${base}/twilio/whatsapp`, whatsappMessage({ Body: 'during the outage' }))).status).toBe(200);
    await until(() => twilioApi.calls.length > 0, 'the reply');
    expect(twilioApi.bodies()).toEqual([NOTICE]);
    expect(ai.calls).toHaveLength(0);
  });
});
