/**
 * With AI_VISION=true an image sent alone on WhatsApp goes to the model as the image only: no
 * empty text part, which Anthropic-compatible endpoints refuse with a 400 (so the customer got
 * the apology instead of an answer). Real server; Twilio and the AI faked over HTTP.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, USER_NUMBER, postTwilio, whatsappImage } from '../helpers/twilio-webhooks.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

type Part = { type: string; text?: string; image_url?: { url: string } };

describe('an image-only WhatsApp message with AI_VISION=true', () => {
  let twilioApi: FakeTwilio;
  let ai: FakeOpenAi;
  let bot: Bot;
  afterEach(async () => {
    await bot.close();
    await twilioApi.close();
    await ai.close();
  });

  it('reaches the model as the image alone, and the customer gets the answer', async () => {
    twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    // As an Anthropic-compatible endpoint answers: an empty text block is a 400.
    ai = await startFakeOpenAi((call) => {
      const parts = call.body.messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as Part[]) : []));
      if (parts.some((p) => p.type === 'text' && p.text === '')) {
        return { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'messages: text content blocks must be non-empty' } } };
      }
      return { text: 'A cat on a sofa.' };
    });
    const env = { ...testEnv, OPENAI_BASE_URL: ai.url, AI_VISION: 'true', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: twilioApi.url };
    bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)] });
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    const image = whatsappImage();

    expect((await postTwilio(`http://127.0.0.1:${(server.address() as AddressInfo).port}/twilio/whatsapp`, image)).status).toBe(200);

    const [sent] = await until(() => twilioApi.calls.length > 0 && twilioApi.calls, 'the answer');
    expect(sent!.form).toMatchObject({ To: USER_NUMBER, Body: 'A cat on a sofa.' });
    const user = ai.calls[0]!.body.messages.at(-1)!;
    expect(user).toEqual({ role: 'user', content: [{ type: 'image_url', image_url: { url: image.MediaUrl0 } }] });
  });
});
