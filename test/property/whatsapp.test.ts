/**
 * The Twilio WhatsApp webhook against signed malformed payloads, generated with fast-check and
 * signed with the twilio SDK's own helper: forms (and the JSON `bodySHA256` variant) with fields
 * dropped, emptied, repeated or replaced, and broken form encodings. Driven through the bot's
 * fetch handler in this process; Twilio's API is faked over HTTP (no reply is sent: no worker).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import type { Bot } from '../../src/index.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { startInProcessBot, type FetchLike } from '../helpers/in-process.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, postTwilioJson, statusCallback, whatsappImage, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { testEnv } from '../helpers/web-bot.js';
import { brokenFormEncoding, mutated, mutatedForm, nonObjectJson } from './arbitraries.js';
import { countIn, sendMalformed } from './harness.js';

const URL_ = 'http://127.0.0.1/twilio/whatsapp';
const forms = fc.constantFrom(() => whatsappMessage(), () => whatsappImage(), () => statusCallback('delivered'));

type Request = { kind: 'form'; form: Record<string, string | string[]> } | { kind: 'raw'; raw: string } | { kind: 'json'; payload: unknown };

const requests: fc.Arbitrary<Request> = fc.oneof(
  { weight: 7, arbitrary: mutatedForm(forms).map((form): Request => ({ kind: 'form', form })) },
  { weight: 1, arbitrary: brokenFormEncoding.map((raw): Request => ({ kind: 'raw', raw })) },
  { weight: 2, arbitrary: fc.oneof(mutated(forms), nonObjectJson.map((text) => JSON.parse(text) as unknown)).map((payload): Request => ({ kind: 'json', payload })) },
);

describe('the Twilio WhatsApp webhook under signed malformed payloads (fast-check)', () => {
  let twilioApi: FakeTwilio;
  let bot: Bot;
  let send: FetchLike;
  beforeAll(async () => {
    twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    const env = { ...testEnv, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: twilioApi.url };
    ({ bot, send } = await startInProcessBot(env, whatsappAdapter(whatsappConfigFromEnv(env)!)));
  });
  afterAll(async () => {
    await bot.close();
    await twilioApi.close();
  });

  const post = (request: Request) => {
    if (request.kind === 'json') return postTwilioJson(URL_, request.payload, AUTH_TOKEN, undefined, send);
    if (request.kind === 'form') return postTwilio(URL_, request.form, { fetch: send });
    // Signed over the fields the raw body decodes to (as a lenient decoder reads them); one that cannot be decoded cannot be verified.
    return postTwilio(URL_, fieldsOf(request.raw), { fetch: send, rawBody: request.raw });
  };

  it('still takes a valid message, and refuses a repeated MessageSid with 400 invalid_payload', async () => {
    const waiting = (await bot.queue.counts()).waiting;
    expect((await post({ kind: 'form', form: whatsappMessage() })).status).toBe(200);
    expect((await bot.queue.counts()).waiting).toBe(waiting + 1);
    const repeated = await post({ kind: 'form', form: { ...whatsappMessage(), MessageSid: ['SM1', 'SM2'] } });
    expect(repeated.status).toBe(400);
    expect(await repeated.json()).toMatchObject({ error: { code: 'invalid_payload' } });
    // Found by the generator: a field named after an Object.prototype property failed the signature check.
    expect((await post({ kind: 'form', form: { ...whatsappMessage(), toString: '', constructor: 'x' } })).status).toBe(200);
  });

  it('1,200 signed malformed webhooks: 200 or 400, never 5xx, never a signature failure', async () => {
    const tally = await sendMalformed(requests, post, 1200, (status) => status === 200 || status === 400);
    expect(tally.total).toBeGreaterThanOrEqual(1200);
    expect(countIn(tally, 500, 600)).toBe(0);
    expect(Object.keys(tally.statuses).sort()).toEqual(['200', '400']);
  });

  it('keeps serving afterwards', async () => {
    expect((await send('http://127.0.0.1/healthz', { method: 'GET' })).status).toBe(200);
  });
});

/** A form body's fields, a repeated name keeping every value. */
function fieldsOf(raw: string): Record<string, string | string[]> {
  const fields = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(raw)) fields.set(name, [...(fields.get(name) ?? []), value]);
  return Object.fromEntries([...fields].map(([name, values]) => [name, values.length === 1 ? values[0]! : values]));
}
