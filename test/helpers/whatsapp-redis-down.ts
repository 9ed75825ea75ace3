/**
 * A WhatsApp bot whose Redis is down for good (REDIS_URL at a closed port): its messages are
 * answered in this process. Twilio and the AI are the tests' fakes.
 */
import type { AddressInfo } from 'node:net';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import type { FakeOpenAi } from '../fakes/openai-server.js';
import type { FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER } from './twilio-webhooks.js';
import { testEnv } from './web-bot.js';

/** Nothing listens there: Redis is down for the whole test, and never comes back. */
export const REDIS_DOWN = 'redis://127.0.0.1:1';

/** A WhatsApp bot's settings against the fakes, quick retries; `env` on top. */
export function whatsappTestEnv(twilioApi: FakeTwilio, ai: FakeOpenAi, env: Record<string, string>): Record<string, string> {
  return {
    ...testEnv,
    OPENAI_BASE_URL: ai.url,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_WHATSAPP_FROM: BOT_NUMBER,
    TWILIO_API_URL: twilioApi.url,
    JOB_BACKOFF_MS: '50',
    SHUTDOWN_TIMEOUT_MS: '1000',
    ...env,
  };
}

export async function startWhatsAppBotRedisDown(twilioApi: FakeTwilio, ai: FakeOpenAi, env: Record<string, string>): Promise<{ bot: Bot; url: string }> {
  const allEnv = whatsappTestEnv(twilioApi, ai, { REDIS_URL: REDIS_DOWN, ...env });
  const bot = createBot({ config: loadConfig(allEnv), adapters: [whatsappAdapter(whatsappConfigFromEnv(allEnv)!)] });
  const server = await bot.listen(0, '127.0.0.1');
  // Waits out the connect timeout (Redis never answers), so the tests' webhooks do not.
  await bot.start();
  return { bot, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/twilio/whatsapp` };
}
