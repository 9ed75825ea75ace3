/**
 * One bot (Slack, WhatsApp and Intercom adapters, queue mode, worker in this process) on a private
 * redis-server behind a freezing proxy (freezing-proxy.ts): armed with a trigger, it freezes Redis
 * (SIGSTOP) for 3 s at the first matching command, past the fail-fast connection's 1.5 s command
 * deadline, so parley gives up on a command that Redis carries out once it wakes. Slack, Twilio,
 * Intercom and the AI are faked over local HTTP. Every server on a free port.
 */
import type { AddressInfo } from 'node:net';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot, type BotOptions } from '../../src/index.js';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom-api.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { startFreezingProxy, type FreezingProxy } from './freezing-proxy.js';
import { DEFAULT_CLIENT_SECRET } from './intercom-events.js';
import { startPrivateRedis, type PrivateRedis } from './processes.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER } from './twilio-webhooks.js';
import { testEnv } from './web-bot.js';
import { directMessage, postSlack } from './slack-events.js';

export const FREEZE_MS = 3000;

export interface FrozenWorld {
  redis: PrivateRedis;
  proxy: FreezingProxy;
  slack: FakeSlack;
  ai: FakeOpenAi;
  twilio: FakeTwilio;
  intercom: FakeIntercom;
  bot: Bot;
  slackUrl: string;
  twilioUrl: string;
  intercomUrl: string;
  /** Freeze Redis at the first command from now on for which `trigger` holds. */
  arm(trigger: (command: string) => boolean): void;
  close(): Promise<void>;
}

/** `options`: the bot's own parts beside its configuration (e.g. a developer's own userLimiter). */
export async function startFrozenWorld(env: Record<string, string> = {}, options: Pick<BotOptions, 'userLimiter'> = {}): Promise<FrozenWorld> {
  const redis = await startPrivateRedis(['--appendonly', 'no']);
  let trigger: ((command: string) => boolean) | undefined;
  const proxy = await startFreezingProxy(redis, (command) => trigger?.(command) ?? false, FREEZE_MS);
  const slack = await startFakeSlack();
  const ai = await startFakeOpenAi((call, i) => ({ text: `answer #${i} to: ${lastUserText(call)}` }));
  const twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  const intercom = await startFakeIntercom();
  const all: Record<string, string> = {
    ...testEnv,
    OPENAI_BASE_URL: ai.url,
    OPENAI_API_KEY: 'test',
    CACHE_TTL_SECONDS: '0',
    REDIS_URL: proxy.url,
    REDIS_PREFIX: 'parley',
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_API_URL: slack.url,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_WHATSAPP_FROM: BOT_NUMBER,
    TWILIO_API_URL: twilio.url,
    INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu',
    INTERCOM_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    INTERCOM_API_URL: intercom.url,
    METRICS_PORT: 'off',
    ...env,
  };
  const bot = createBot({
    ...options,
    config: loadConfig(all),
    adapters: [slackAdapter(slackConfigFromEnv(all)!), whatsappAdapter(whatsappConfigFromEnv(all)!), intercomAdapter(intercomConfigFromEnv(all)!)],
  });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.ready;
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    redis,
    proxy,
    slack,
    ai,
    twilio,
    intercom,
    bot,
    slackUrl: `${url}/slack/events`,
    twilioUrl: `${url}/twilio/whatsapp`,
    intercomUrl: `${url}/intercom/webhook`,
    arm: (armed) => void (trigger = armed),
    async close() {
      await bot.close().catch(() => undefined); // a freeze under way ends by itself meanwhile
      await proxy.close();
      await Promise.all([slack.close(), ai.close(), twilio.close(), intercom.close()]);
      await redis.stop();
    },
  };
}

/** The start of the rate-limit notice's text. */
export const NOTICE = "You're sending messages faster than I can answer";

/** Slack: a delivery answered with an error is delivered again (X-Slack-Retry-Num), here once Redis is awake. */
export async function slackDelivery(w: FrozenWorld, text: string, user: string): Promise<number[]> {
  const event = directMessage({ text, user, channel: `D0${user}` });
  const first = await postSlack(w.slackUrl, event);
  if (first.status === 200) return [200];
  await new Promise((resolve) => setTimeout(resolve, FREEZE_MS + 500));
  return [first.status, (await postSlack(w.slackUrl, event, { retryNum: 1, retryReason: 'http_error' })).status];
}

/** The notices the fake Slack was asked to post. */
export const slackNotices = (w: FrozenWorld) => w.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith(NOTICE));
