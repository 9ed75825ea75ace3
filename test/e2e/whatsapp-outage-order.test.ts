/**
 * Two messages of one WhatsApp sender answered in this process while Redis is down (REDIS_URL at
 * a closed port): answered one after the other, in the order they came, though the AI answers the
 * first slowly and the second at once; the second is not held until Redis is back (the first's
 * conversation-log write waits for it). One stuck for longer than its own budget holds the next
 * one no longer. Twilio and the AI are faked over HTTP; the webhooks are signed as Twilio signs them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/index.js';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { startWhatsAppBotRedisDown } from '../helpers/whatsapp-redis-down.js';
import { until } from '../helpers/until.js';

/** How long the AI takes over a message with "slow" in it. */
const SLOW_MS = 1500;
/**
 * The second reply comes this soon after the first. Waiting for the first's conversation-log
 * write instead (the patient Redis connection, ~30 reconnects of up to 2 s) would take a minute.
 */
const PROMPTLY_MS = 3000;
const quiet = (ms = 500) => new Promise((resolve) => setTimeout(resolve, ms));


describe('WhatsApp while Redis is down: one sender\'s messages answered in this process', () => {
  let twilioApi: FakeTwilio;
  let ai: FakeOpenAi;
  let queued: { bot: Bot; url: string };
  let direct: { bot: Bot; url: string };
  /** AI_MAX_WAIT_MS at its least: a message holds the next one about a second at most. */
  let impatient: { bot: Bot; url: string };
  /** Holds the AI's answer to a message with "stuck" in it until the test lets it go. */
  let unstick: () => void = () => undefined;
  beforeAll(async () => {
    twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    ai = await startFakeOpenAi((call) => {
      const text = lastUserText(call);
      if (text.includes('stuck')) return { hold: new Promise<void>((resolve) => (unstick = resolve)) };
      return text.includes('slow') ? { delayMs: SLOW_MS } : {};
    });
    [queued, direct, impatient] = await Promise.all([
      startWhatsAppBotRedisDown(twilioApi, ai, {}),
      startWhatsAppBotRedisDown(twilioApi, ai, { MODE: 'direct' }),
      startWhatsAppBotRedisDown(twilioApi, ai, { AI_MAX_WAIT_MS: '1000' }),
    ]);
  }, 30_000);
  afterAll(async () => {
    unstick();
    await Promise.all([queued.bot.close(), direct.bot.close(), impatient.bot.close()]);
    await twilioApi.close();
    await ai.close();
  }, 30_000);
  afterEach(() => twilioApi.reset());

  /** The replies Twilio was asked to send to `sender`, in order, with when. */
  const repliesTo = (sender: string) => twilioApi.calls.filter((call) => call.form.To === sender).map((call) => ({ body: call.form.Body, at: call.at }));

  it.each([
    ['queue', () => queued.url, 'whatsapp:+15550000001'],
    ['direct', () => direct.url, 'whatsapp:+15550000002'],
  ])('%s mode: a slow answer to the first message comes before the quick answer to the second, each once, and the second promptly', async (_mode, url, sender) => {
    const first = await postTwilio(url(), whatsappMessage({ From: sender, Body: 'first, slow' }));
    const second = await postTwilio(url(), whatsappMessage({ From: sender, Body: 'second, quick' }));
    expect([first.status, second.status]).toEqual([200, 200]);
    await until(() => repliesTo(sender).length >= 2, 'both replies', 15_000);
    await quiet();
    const replies = repliesTo(sender);
    expect(replies.map((reply) => reply.body)).toEqual(['echo: first, slow', 'echo: second, quick']);
    // Not held until Redis is back: the first's log write, which waits for Redis, does not hold it.
    expect(replies[1]!.at - replies[0]!.at).toBeLessThan(PROMPTLY_MS);
    // Answered after the first, the second is asked with the first's exchange in its history.
    const secondCall = ai.calls.find((call) => call.body.messages.some((m) => m.role === 'user' && m.content === 'second, quick'));
    expect(secondCall?.body.messages.map((m) => m.content)).toEqual(expect.arrayContaining(['first, slow', 'echo: first, slow']));
  });

  it('a message whose predecessor is stuck past its own budget is answered without waiting for it any longer', async () => {
    const sender = 'whatsapp:+15550000003';
    const started = Date.now();
    await postTwilio(impatient.url, whatsappMessage({ From: sender, Body: 'first, stuck' }));
    await postTwilio(impatient.url, whatsappMessage({ From: sender, Body: 'second, quick' }));
    await until(() => repliesTo(sender).length >= 1, 'the second reply', 10_000);
    // The first is still stuck: the second went ahead once the first had held it past its budget (~1 s).
    expect(repliesTo(sender).map((reply) => reply.body)).toEqual(['echo: second, quick']);
    expect(repliesTo(sender)[0]!.at - started).toBeGreaterThanOrEqual(1000);
    unstick();
    await until(() => repliesTo(sender).length >= 2, 'the first reply, once the AI answers it', 10_000);
    await quiet();
    expect(repliesTo(sender).map((reply) => reply.body)).toEqual(['echo: second, quick', 'echo: first, stuck']);
  });
});
