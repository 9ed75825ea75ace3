/**
 * Twilio signs the webhook URL as it sends it, and the twilio SDK's validateRequest checks that
 * string first. A query such as `?name=William+O'hara` (a `'` beside a `+` or a `/`) cannot be
 * rebuilt from the URL `new URL()` parsed (`'` → `%27`) by any of the SDK's re-encodings, so
 * parley must hand the SDK the URL as it came. Sent with node:http: fetch would re-encode it first.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

const PATH = '/twilio/whatsapp';

/** POST a signed webhook to `pathAndQuery` exactly as written (no re-encoding), signed for `signedUrl`. */
function postRaw(port: number, pathAndQuery: string, signedUrl: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<number> {
  const body = new URLSearchParams(form).toString();
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, signedUrl, form);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: pathAndQuery, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature, ...headers } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('WhatsApp: a webhook URL whose query new URL() would re-encode', () => {
  let twilioApi: FakeTwilio;
  let ai: FakeOpenAi;
  beforeAll(async () => {
    twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    ai = await startFakeOpenAi();
  });
  afterAll(async () => {
    await twilioApi.close();
    await ai.close();
  });

  async function start(env: Record<string, string>): Promise<{ bot: Bot; port: number }> {
    const allEnv = { ...testEnv, OPENAI_BASE_URL: ai.url, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: twilioApi.url, ...env };
    const bot = createBot({ config: loadConfig(allEnv), adapters: [whatsappAdapter(whatsappConfigFromEnv(allEnv)!)] });
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    return { bot, port: (server.address() as AddressInfo).port };
  }

  it.each([
    ["a `'` beside a `+` (a space)", "?name=William+O'hara"],
    ["a `'` beside a `/`", "?next=/orders&who=O'hara"],
  ])('is verified and answered, with %s', async (_name, query) => {
    const { bot, port } = await start({});
    try {
      const before = twilioApi.calls.length;
      const status = await postRaw(port, `${PATH}${query}`, `http://127.0.0.1:${port}${PATH}${query}`, whatsappMessage({ Body: 'hello' }));
      expect(status).toBe(200);
      await until(() => twilioApi.calls.length > before || undefined, 'the reply');
    } finally {
      await bot.close();
    }
  });

  it('is verified for PUBLIC_URL + the path and query as they came', async () => {
    const { bot, port } = await start({ PUBLIC_URL: 'https://bot.example.com' });
    try {
      const query = "?tenant=Trezzo+Sull'Adda";
      expect(await postRaw(port, `${PATH}${query}`, `https://bot.example.com${PATH}${query}`, whatsappMessage())).toBe(200);
      // Still the URL Twilio signed, not any URL: the same query signed for another host is refused.
      expect(await postRaw(port, `${PATH}${query}`, `https://elsewhere.example.com${PATH}${query}`, whatsappMessage())).toBe(403);
    } finally {
      await bot.close();
    }
  });
});
