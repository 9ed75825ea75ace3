/**
 * The ingress Lambda (examples/aws) given a WhatsApp message SQS cannot take (its endpoint is a
 * closed port). Twilio does not redeliver, so parley answers the message in this process; Lambda
 * freezes the function once the handler has returned, so the reply must be sent by then. The
 * store is on DynamoDB (the moto server); Twilio and the AI are faked over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaBot } from '../../examples/aws/bot.js';
import { lambdaHandler, setupAws } from '../../aws/index.js';
import { loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { httpApiEvent } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, USER_NUMBER, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { testEnv } from '../helpers/web-bot.js';
import twilio from 'twilio';

/** Nothing listens there (a port of this test's own range): SQS cannot be reached. */
const SQS_DOWN = 'http://127.0.0.1:5410/123456789012/in-process.fifo';
const DOMAIN = 'abc123.execute-api.us-east-1.amazonaws.com';

const moto = useMoto();
let twilioApi: FakeTwilio;
let ai: FakeOpenAi;
const bots: Bot[] = [];

beforeAll(async () => {
  twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  // Slow enough that a reply sent after the handler returned cannot be mistaken for one sent before.
  ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}`, delayMs: 500 }));
});
afterAll(async () => {
  for (const bot of bots) await bot.close();
  await twilioApi.close();
  await ai.close();
});

function whatsappEvent(form: Record<string, string>) {
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `https://${DOMAIN}/twilio/whatsapp`, form);
  return httpApiEvent({ method: 'POST', path: '/twilio/whatsapp', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature }, body: new URLSearchParams(form).toString() }, { domainName: DOMAIN });
}

describe('the ingress Lambda with SQS unreachable', () => {
  it('sends the in-process WhatsApp reply before the handler returns', async () => {
    const prefix = 'in-process';
    const env = { ...testEnv, AWS_LAMBDA_FUNCTION_NAME: 'ingress', DYNAMODB_TABLE_PREFIX: prefix, OPENAI_BASE_URL: ai.url, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: twilioApi.url };
    await setupAws(loadConfig({ ...env, SQS_QUEUE_URL: `${moto().url}/123456789012/${prefix}.fifo` }));
    const bot = lambdaBot({ ...env, SQS_QUEUE_URL: SQS_DOWN });
    bots.push(bot);

    const result = await lambdaHandler(bot)(whatsappEvent(whatsappMessage({ Body: 'while SQS is down' })));
    expect(result).toMatchObject({ statusCode: 200 });
    // What the function sent before returning; a frozen function sends nothing after.
    expect(twilioApi.calls.map((call) => call.form)).toEqual([expect.objectContaining({ To: USER_NUMBER, Body: 'echo: while SQS is down' })]);
  }, 30_000);
});
