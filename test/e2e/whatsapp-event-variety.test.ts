/**
 * The variety of webhooks Twilio really posts to a WhatsApp number's URL, signed with the twilio
 * SDK: people's messages are answered (text, media, a location, a tapped button), each once, and
 * one Twilio did not carry gets the notice that it cannot be read;
 * status callbacks, messages with nothing in them and the bot's own number are acknowledged with
 * empty TwiML and nothing else: no AI call, no send, no rate limit spent.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, SECOND_BOT_NUMBER, postTwilio, statusCallback, whatsappMessage, type Form } from '../helpers/twilio-webhooks.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WhatsApp: the webhooks Twilio really posts', () => {
  let twilioApi: FakeTwilio;
  let ai: FakeOpenAi;
  let bot: Bot;
  let url: string;
  const lines: string[] = [];
  beforeAll(async () => {
    twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    ai = await startFakeOpenAi();
    const env = {
      ...testEnv,
      OPENAI_BASE_URL: ai.url,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_WHATSAPP_FROM: BOT_NUMBER,
      TWILIO_API_URL: twilioApi.url,
      // One message a minute per person: a webhook with nothing to answer must not spend it.
      RATE_LIMIT_USER_PER_MINUTE: '1',
    };
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)], logger });
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/twilio/whatsapp`;
  });
  afterAll(async () => {
    await bot.close();
    await twilioApi.close();
    await ai.close();
  });
  afterEach(() => {
    twilioApi.reset();
    lines.length = 0;
  });

  const sent = () => twilioApi.messages.map((m) => [m.to, m.body]);
  /** Each person writes from a number of their own: one message a minute each. */
  let person = 0;
  const from = () => `whatsapp:+1555000${String(++person).padStart(4, '0')}`;

  async function post(form: Form): Promise<void> {
    const res = await postTwilio(url, form);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(EMPTY_TWIML);
  }

  it('acknowledges status callbacks, reactions and empty messages with nothing else, and the person still gets their next answer', async () => {
    const asked = ai.calls.length;
    const alice = from();
    for (const status of ['sent', 'delivered', 'read']) await post(statusCallback(status));
    // A reaction (its emoji as the Body or not) and an empty body: nothing to answer.
    await post(whatsappMessage({ From: alice, Body: '', MessageType: 'reaction' }));
    await post(whatsappMessage({ From: alice, Body: '👍', MessageType: 'reaction' }));
    await post(whatsappMessage({ From: alice, Body: '   ' }));
    await quiet();
    expect(sent()).toEqual([]);
    expect(ai.calls.length).toBe(asked);
    // Nothing at info or above but each request's own line (at info for every request, README "Logs").
    const loud = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 30 && line.msg !== 'request');
    expect(loud).toEqual([]);
    // Within the minute: the one message the limit allows is hers still.
    await post(whatsappMessage({ From: alice, Body: 'a real question' }));
    await until(() => (twilioApi.messages.length === 1 ? true : undefined), 'the answer');
    expect(sent()).toEqual([[alice, 'echo: a real question']]);
  });

  it('tells a person once that it cannot read a message Twilio did not carry (MessageType unsupported), without asking the AI', async () => {
    const asked = ai.calls.length;
    const frank = from();
    const unsupported = whatsappMessage({ From: frank, Body: '', MessageType: 'unsupported' });
    await post(unsupported);
    await post(unsupported); // the same MessageSid again
    await until(() => (twilioApi.messages.length === 1 ? true : undefined), 'the notice');
    await quiet();
    expect(sent()).toEqual([[frank, 'I can only read text messages for now.']]);
    expect(ai.calls.length).toBe(asked);
  });

  it('does not answer a message from its own number (no loop, no send to itself)', async () => {
    const asked = ai.calls.length;
    await post(whatsappMessage({ From: BOT_NUMBER, To: BOT_NUMBER, Body: 'echo: an answer of ours' }));
    await post(whatsappMessage({ From: BOT_NUMBER, Body: 'from our own number' }));
    await quiet();
    expect(sent()).toEqual([]);
    expect(ai.calls.length).toBe(asked);
  });

  it('does not answer a message from another of its numbers, one a person wrote to (replies go from it: two of its numbers would talk)', async () => {
    const bob = from();
    await post(whatsappMessage({ From: bob, To: SECOND_BOT_NUMBER, Body: 'to the second number' }));
    await until(() => (twilioApi.messages.length === 1 ? true : undefined), 'the answer from the second number');
    expect(twilioApi.messages.map((m) => [m.from, m.to])).toEqual([[SECOND_BOT_NUMBER, bob]]);
    const asked = ai.calls.length;
    // That number's reply to someone on the configured number, as it would reach the webhook.
    await post(whatsappMessage({ From: SECOND_BOT_NUMBER, To: BOT_NUMBER, Body: 'echo: an answer of the second number' }));
    await quiet();
    expect(twilioApi.messages).toHaveLength(1);
    expect(ai.calls.length).toBe(asked);
  });

  it("still answers a person after a message from its own number to them (its To, a person's, is not taken for one of its numbers)", async () => {
    const carol = from();
    // From the bot's number to a person (the echo of a reply, as a setup may deliver it): not answered.
    await post(whatsappMessage({ From: BOT_NUMBER, To: carol, Body: 'echo: an answer of ours' }));
    await post(whatsappMessage({ From: carol, To: BOT_NUMBER, Body: 'a question of mine' }));
    await until(() => (twilioApi.messages.length === 1 ? true : undefined), "the answer to the person's message");
    expect(twilioApi.messages.map((m) => [m.from, m.to])).toEqual([[BOT_NUMBER, carol]]);
  });

  it('answers a tapped button (its text, also when Body is empty), a location, media alone and a contact card, each once', async () => {
    const [bob, carol, dan, erin] = [from(), from(), from(), from()];
    await post(whatsappMessage({ From: bob, Body: '', MessageType: 'button', ButtonText: 'Yes please', ButtonPayload: 'confirm-yes' }));
    await post(whatsappMessage({ From: carol, Body: '', MessageType: 'location', Latitude: '51.5072', Longitude: '-0.1276', Label: 'Office' }));
    const card = whatsappMessage({ From: dan, Body: '', NumMedia: '1', MessageType: 'contacts', MediaContentType0: 'text/vcard', MediaUrl0: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/MM1/Media/ME1` });
    await post(card);
    await post(card); // the same MessageSid again
    await post(whatsappMessage({ From: erin, Body: 'hello' }));
    await until(() => (twilioApi.messages.length === 4 ? true : undefined), 'four answers');
    await quiet();
    expect(twilioApi.messages).toHaveLength(4);
    const bodies = Object.fromEntries(twilioApi.messages.map((m) => [String(m.to), String(m.body)]));
    expect(bodies[bob]).toBe('echo: Yes please');
    expect(bodies[carol]).toBe('echo: [location: Office (51.5072, -0.1276)]');
    expect(bodies[dan]).not.toMatch(/^echo:/); // MEDIA_NOTICE: a card is media the model is not shown
    expect(bodies[erin]).toBe('echo: hello');
    expect(ai.calls.map(lastUserText)).not.toContain('');
  });
});
