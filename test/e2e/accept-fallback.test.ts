/**
 * Taking a message when the store or queue cannot (Redis down: REDIS_URL at a closed port), and
 * direct mode for an adapter that cannot carry the reply in its HTTP answer. Twilio, Slack and the
 * AI are faked over HTTP; the webhooks are signed as the platforms sign them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/index.js';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, USER_NUMBER, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { startWhatsAppBotRedisDown } from '../helpers/whatsapp-redis-down.js';
import { until } from '../helpers/until.js';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const APOLOGY = /^Sorry/;
const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));


describe('WhatsApp while Redis is down (Twilio never redelivers)', () => {
  let twilioApi: FakeTwilio;
  let ai: FakeOpenAi;
  let queued: { bot: Bot; url: string };
  let direct: { bot: Bot; url: string };
  beforeAll(async () => {
    twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}` }));
    // A short AI_MAX_WAIT_MS: Twilio down (its 5xx) is waited out that long, no attempt spent.
    [queued, direct] = await Promise.all([startWhatsAppBotRedisDown(twilioApi, ai, { AI_MAX_WAIT_MS: '2000' }), startWhatsAppBotRedisDown(twilioApi, ai, { MODE: 'direct' })]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([queued.bot.close(), direct.bot.close()]);
    await twilioApi.close();
    await ai.close();
  }, 30_000);
  afterEach(() => twilioApi.reset());

  it('queue mode: the same MessageSid delivered twice during the outage is answered once', async () => {
    const message = whatsappMessage({ Body: 'twice during the outage' });
    const first = await postTwilio(queued.url, message);
    const again = await postTwilio(queued.url, message);
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(await again.text()).toBe(EMPTY_TWIML);
    await until(() => twilioApi.calls.length > 0, 'the in-process reply');
    await quiet();
    expect(twilioApi.bodies()).toEqual(['echo: twice during the outage']);
    expect(ai.calls.filter((c) => lastUserText(c) === 'twice during the outage')).toHaveLength(1);
    const metrics = await queued.bot.metrics.registry.getSingleMetricAsString('parley_duplicates_dropped_total');
    expect(metrics).toMatch(/platform="whatsapp"} 1$/m);
  });

  it('queue mode: a Twilio 503 on sending the answer is waited out (no attempt spent), and no apology is sent', async () => {
    twilioApi.on((_call, n) => (n === 0 ? twilioApi.error(503, 20500, 'Service Unavailable') : undefined));
    const res = await postTwilio(queued.url, whatsappMessage({ Body: 'through a 503' }));
    expect(await res.text()).toBe(EMPTY_TWIML);
    await until(() => twilioApi.calls.length >= 2, 'the retried reply', 15_000);
    await quiet();
    expect(twilioApi.bodies()).toEqual(['echo: through a 503', 'echo: through a 503']);
    expect(twilioApi.bodies().some((body) => APOLOGY.test(body))).toBe(false);
    expect(ai.calls.filter((c) => lastUserText(c) === 'through a 503')).toHaveLength(1);
  });

  it('queue mode: the apology comes once, after AI_MAX_WAIT_MS of Twilio answering 503', async () => {
    twilioApi.on((call) => (APOLOGY.test(call.form.Body ?? '') ? undefined : twilioApi.error(503, 20500, 'Service Unavailable')));
    const sentAt = Date.now();
    await postTwilio(queued.url, whatsappMessage({ Body: 'never through' }));
    await until(() => twilioApi.bodies().some((body) => APOLOGY.test(body)), 'the apology', 15_000);
    await quiet();
    // Tried until the wait ran out (not JOB_ATTEMPTS in a moment), then the one apology.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(2000);
    expect(twilioApi.bodies().filter((body) => body === 'echo: never through').length).toBeGreaterThanOrEqual(1);
    expect(twilioApi.bodies().filter((body) => APOLOGY.test(body))).toHaveLength(1);
  });

  it('direct mode: a message the store cannot take gets empty TwiML and is answered through the REST API', async () => {
    const res = await postTwilio(direct.url, whatsappMessage({ Body: 'direct, store down' }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(EMPTY_TWIML);
    const [call] = await until(() => twilioApi.calls.length > 0 && twilioApi.calls, 'the reply through the REST API');
    expect(call!.form).toMatchObject({ To: USER_NUMBER, Body: 'echo: direct, store down' });
  });
});

describe('direct mode with Slack (the answer cannot be the HTTP response)', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi((call) => ({ text: `slow echo: ${lastUserText(call)}`, delayMs: 1500 }));
    server = await startSlackBot(slack, ai, { MODE: 'direct' });
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
    await ai.close();
  });

  it('acknowledges the event at once, before the AI has answered, and posts the answer after', async () => {
    const res = await postSlack(server.url, appMention({ text: 'answer me later' }));
    expect(res.status).toBe(200);
    // The AI takes 1.5 s: when the 200 arrives it has not answered, however slow the machine.
    expect(ai.calls.filter((call) => /answer me later/.test(lastUserText(call)) && call.answeredAt !== undefined)).toEqual([]);
    const posted = await until(() => slack.callsTo('chat.postMessage').find((c) => String(c.args.text).includes('slow echo: answer me later')), 'the answer');
    expect(posted).toBeDefined();
  });
});
