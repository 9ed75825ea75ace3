/**
 * A platform's API that cannot be reached at all (its port refuses connections: nothing was ever
 * sent) is a wait, not a failure. For Slack, WhatsApp (Twilio) and Intercom, end to end on a real
 * server in memory mode, the platform faked over HTTP and stopped: a message that comes while it
 * is away longer than JOB_ATTEMPTS' backoff lasts (20 ms here) is answered once it is back, with
 * no apology and no dead letter; one whose platform stays away past AI_MAX_WAIT_MS is given up
 * (max_wait), and its apology waits for the platform in turn rather than being dropped.
 */
import type { AddressInfo } from 'node:net';
import { describe, expect, it, type TestContext } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Adapter, type Bot } from '../../src/index.js';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom-api.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { DEFAULT_CLIENT_SECRET, conversationId, postIntercom, userCreated } from '../helpers/intercom-events.js';
import { startSlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

/** Longer than the old way took to spend every attempt and give the message up (well under a second here). */
const DOWN_MS = 8000;
const APOLOGY = /^Sorry/;

/** A bot on one platform whose fake API can be stopped and started again on the same port. */
interface World {
  bot: Bot;
  /** Send the user's message (a webhook the bot takes while the platform's API is away). */
  send(text: string): Promise<void>;
  /** The texts the platform has taken from the bot since it last started. */
  posted(): string[];
  stopPlatform(): Promise<void>;
  startPlatform(): Promise<void>;
  close(): Promise<void>;
}

async function startBot(adapter: Adapter, env: Record<string, string>): Promise<{ bot: Bot; base: string }> {
  const bot = createBot({ config: loadConfig(env), adapters: [adapter] });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.ready;
  return { bot, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const portOf = (url: string) => Number(new URL(url).port);

async function slackWorld(ai: FakeOpenAi, env: Record<string, string>): Promise<World> {
  let slack: FakeSlack | undefined = await startFakeSlack();
  const port = portOf(slack.url);
  const server = await startSlackBot(slack, ai, env);
  return {
    bot: server.bot,
    send: async (text) => void expect((await postSlack(server.url, appMention({ text }))).status).toBe(200),
    posted: () => slack?.callsTo('chat.postMessage').map((call) => String(call.args.text)) ?? [],
    stopPlatform: async () => {
      await slack?.close();
      slack = undefined;
    },
    startPlatform: async () => void (slack = await startFakeSlack({ port })),
    close: async () => {
      await server.close();
      await slack?.close();
    },
  };
}

async function whatsappWorld(ai: FakeOpenAi, env: Record<string, string>): Promise<World> {
  let twilio: FakeTwilio | undefined = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  const port = portOf(twilio.url);
  const all = { ...env, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: twilio.url };
  const { bot, base } = await startBot(whatsappAdapter(whatsappConfigFromEnv(all)!), all);
  return {
    bot,
    send: async (text) => void expect((await postTwilio(`${base}/twilio/whatsapp`, whatsappMessage({ Body: text }))).status).toBe(200),
    posted: () => twilio?.bodies() ?? [],
    stopPlatform: async () => {
      await twilio?.close();
      twilio = undefined;
    },
    startPlatform: async () => void (twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN }, port)),
    close: async () => {
      await bot.close();
      await twilio?.close();
    },
  };
}

async function intercomWorld(ai: FakeOpenAi, env: Record<string, string>): Promise<World> {
  let intercom: FakeIntercom | undefined = await startFakeIntercom();
  const port = portOf(intercom.url);
  const all = { ...env, INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu', INTERCOM_CLIENT_SECRET: DEFAULT_CLIENT_SECRET, INTERCOM_API_URL: intercom.url };
  const { bot, base } = await startBot(intercomAdapter(intercomConfigFromEnv(all)!), all);
  return {
    bot,
    send: async (text) => void expect((await postIntercom(`${base}/intercom/webhook`, userCreated({ conversation: conversationId(), body: `<p>${text}</p>` }))).status).toBe(200),
    // The reply's body is HTML: its text is enough here.
    posted: () => intercom?.callsTo('reply').map((call) => String((call.body as { body?: unknown }).body).replace(/<[^>]+>/g, '')) ?? [],
    stopPlatform: async () => {
      await intercom?.close();
      intercom = undefined;
    },
    startPlatform: async () => void (intercom = await startFakeIntercom({ port })),
    close: async () => {
      await bot.close();
      await intercom?.close();
    },
  };
}

const platforms = { slack: slackWorld, whatsapp: whatsappWorld, intercom: intercomWorld };

// Each test has a bot and fakes of its own: they run at once, so the file takes about as long as its longest test.
describe.concurrent.each(Object.entries(platforms))('%s: its API not reachable (connection refused)', (_platform, startWorld) => {
  // The test's own onTestFinished: the tests run at once, so the global one cannot tell which test is running.
  const start = async (onTestFinished: TestContext['onTestFinished'], env: Record<string, string> = {}) => {
    const ai = await startFakeOpenAi();
    const world = await startWorld(ai, { ...testEnv, OPENAI_BASE_URL: ai.url, RATE_LIMIT_USER_PER_MINUTE: '0', ...env });
    onTestFinished(async () => {
      await world.close();
      await ai.close();
    });
    return { ...world, ai };
  };

  it(`for ${DOWN_MS / 1000} s: the message waits (no attempt spent) and is answered once it is back, once, with no apology and no dead letter`, async ({ onTestFinished }) => {
    const { bot, ai, send, posted, stopPlatform, startPlatform } = await start(onTestFinished);
    await stopPlatform();
    await send('where is my parcel');
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    expect(await bot.deadLetters.list()).toEqual([]);
    await startPlatform();

    await until(() => posted().length > 0, 'the answer', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // nothing more arrives
    expect(posted()).toEqual([expect.stringContaining('echo: where is my parcel')]);
    expect(posted().filter((text) => APOLOGY.test(text))).toEqual([]);
    expect(await bot.deadLetters.list()).toEqual([]);
    // Each run while it waited had the answer from the cache: the AI was asked once.
    expect(ai.calls).toHaveLength(1);
  }, 30_000);

  it('past AI_MAX_WAIT_MS: given up once (max_wait), and its apology waits for the platform instead of being dropped', async ({ onTestFinished }) => {
    const { bot, send, posted, stopPlatform, startPlatform } = await start(onTestFinished, { AI_MAX_WAIT_MS: '3000' });
    await stopPlatform();
    const sentAt = Date.now();
    await send('is anyone there');

    const [letter] = await until(async () => {
      const letters = await bot.deadLetters.list();
      return letters.length > 0 && letters;
    }, 'the dead letter', 15_000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(3000);
    expect(letter).toMatchObject({ reason: 'max_wait', data: { type: 'message' } });
    // Given up, it tries nothing again: its reason does not say it will.
    expect(letter!.error).toMatch(/could not be reached \(ECONNREFUSED\); nothing was sent$/);

    // The apology (a notice job) is waiting for the platform within AI_MAX_WAIT_MS of its own: back now, it is posted.
    await startPlatform();
    await until(() => posted().length > 0, 'the apology', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(posted()).toEqual([expect.stringMatching(APOLOGY)]);
    expect((await bot.deadLetters.list()).map((dead) => dead.reason)).toEqual(['max_wait']);
  }, 30_000);
});
