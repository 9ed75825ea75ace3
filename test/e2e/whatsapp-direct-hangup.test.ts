/**
 * Direct mode answers a WhatsApp message in the webhook's TwiML when the reply is ready in time.
 * When the caller hangs up first (Twilio at 15 s, a proxy's idle timeout, a network drop), no one
 * reads that answer: the reply must go through the REST API instead, exactly once.
 */
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, USER_NUMBER, postTwilio, whatsappMessage, type Form } from '../helpers/twilio-webhooks.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

const PATH = '/twilio/whatsapp';
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

function whatsappEnv(twilioApi: FakeTwilio, ai: FakeOpenAi, env: Record<string, string>): Record<string, string> {
  return { ...testEnv, OPENAI_BASE_URL: ai.url, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: twilioApi.url, ...env };
}

async function startDirectBot(twilioApi: FakeTwilio, ai: FakeOpenAi, extra: Record<string, string> = {}): Promise<{ bot: Bot; server: Server; url: string }> {
  const env = whatsappEnv(twilioApi, ai, { MODE: 'direct', ...extra });
  const bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)] });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.ready;
  return { bot, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}` };
}

/** Post a signed webhook on a connection of its own (`Connection: close`), which the caller may hang up. */
function callWebhook(url: string, form: Form) {
  const body = new URLSearchParams(form).toString();
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), 'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, form) };
  const req = request(url, { method: 'POST', agent: false, headers });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('error', reject).on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
  });
  req.end(body);
  return { answer, hangUp: () => (answer.catch(() => undefined), req.destroy()) };
}

const openConnections = (server: Server) => new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

/** An AI answer the test lets out when it chooses. */
function heldAnswer(text: string) {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  return { script: () => ({ text, hold }), release };
}

describe('WhatsApp direct mode when the caller hangs up', () => {
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

  const reset = () => {
    ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));
    ai.calls.length = 0;
    twilioApi.reset();
  };

  it('a caller that hangs up before the AI answers gets the reply through the REST API, once', async () => {
    const held = heldAnswer('the late answer');
    ai.script(held.script);
    const { bot, server, url } = await startDirectBot(twilioApi, ai);
    try {
      const call = callWebhook(url, whatsappMessage({ Body: 'still there?' }));
      await until(() => ai.calls.length === 1, 'the AI call');
      call.hangUp();
      await until(async () => (await openConnections(server)) === 0, 'the server to see the connection closed');
      held.release();
      const [sent] = await until(() => twilioApi.calls.length > 0 && twilioApi.calls, 'the reply through the REST API');
      expect(sent!.form).toMatchObject({ To: USER_NUMBER, Body: 'the late answer' });
      await quiet();
      expect(twilioApi.bodies()).toEqual(['the late answer']);
    } finally {
      reset();
      await bot.close();
    }
  });

  it('a shutdown (SIGTERM) while a late reply is still coming waits for it: posted once through the REST API before close() resolves', async () => {
    const held = heldAnswer('answered during the shutdown');
    ai.script(held.script);
    const { bot, url } = await startDirectBot(twilioApi, ai, { DIRECT_DEADLINE_MS: '200', SHUTDOWN_TIMEOUT_MS: '10000' });
    try {
      const answer = await postTwilio(url, whatsappMessage({ Body: 'are you closing?' }));
      expect(await answer.text()).toBe(EMPTY_TWIML); // past the deadline: the reply goes by REST
      const closed = bot.close();
      setTimeout(() => held.release(), 300);
      await closed;
      expect(twilioApi.bodies()).toEqual(['answered during the shutdown']);
    } finally {
      reset();
      await bot.close();
    }
  });

  it('through bot.fetch too: a Request whose signal aborts before the AI answers gets the reply posted, once', async () => {
    const held = heldAnswer('the late answer');
    ai.script(held.script);
    const { bot, url } = await startDirectBot(twilioApi, ai);
    try {
      const caller = new AbortController();
      const fetchAborting = (target: string, init: RequestInit) => bot.fetch(new Request(target, { ...init, signal: caller.signal }), { remoteAddress: '127.0.0.1' });
      const answer = postTwilio(url, whatsappMessage({ Body: 'still there?' }), { fetch: fetchAborting });
      await until(() => ai.calls.length === 1, 'the AI call');
      caller.abort();
      held.release();
      // No one reads it; it does not carry the reply.
      expect(await (await answer).text()).toBe(EMPTY_TWIML);
      const [sent] = await until(() => twilioApi.calls.length > 0 && twilioApi.calls, 'the reply through the REST API');
      expect(sent!.form).toMatchObject({ To: USER_NUMBER, Body: 'the late answer' });
      await quiet();
      expect(twilioApi.bodies()).toEqual(['the late answer']);
    } finally {
      reset();
      await bot.close();
    }
  });

  it('a reply ready in time is the webhook answer, and the connection closing after it posts nothing', async () => {
    const { bot, server, url } = await startDirectBot(twilioApi, ai);
    try {
      const { status, body } = await callWebhook(url, whatsappMessage({ Body: 'quick' })).answer;
      expect(status).toBe(200);
      expect(body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Message>echo: quick</Message></Response>');
      await until(async () => (await openConnections(server)) === 0, 'the connection to close');
      await quiet();
      expect(twilioApi.calls).toHaveLength(0);
    } finally {
      reset();
      await bot.close();
    }
  });
});

describe('WhatsApp direct mode: DIRECT_DEADLINE_MS against Twilio\'s 15 s', () => {
  /** The raw JSON lines about DIRECT_DEADLINE_MS a start logs at warn. */
  async function startWarnings(env: Record<string, string>): Promise<string[]> {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const all = { ...testEnv, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, OPENAI_API_KEY: 'sk-test', ...env };
    const bot = createBot({ config: loadConfig(all), adapters: [whatsappAdapter(whatsappConfigFromEnv(all)!)], logger, worker: false });
    try {
      await bot.ready;
    } finally {
      await bot.close();
    }
    return warnings.filter((warning) => warning.includes('DIRECT_DEADLINE_MS'));
  }

  it('warns once at start when the deadline is not under 15 s', async () => {
    const warnings = await startWarnings({ MODE: 'direct', DIRECT_DEADLINE_MS: '15000' });
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!).msg).toContain("Twilio's 15 s webhook timeout");
  });

  it('the warning names its platform once: no key twice in the line (a JSON reader keeps one, a log search may see both)', async () => {
    const [line] = await startWarnings({ MODE: 'direct', DIRECT_DEADLINE_MS: '15000' });
    expect(line?.match(/"platform":/g)).toEqual(['"platform":']);
    const keys = [...line!.matchAll(/[{,]"([^"]+)":/g)].map((match) => match[1]);
    expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([]);
    expect(JSON.parse(line!)).toMatchObject({ platform: 'whatsapp', directDeadlineMs: 15000 });
  });

  it('says nothing under 15 s, or in queue mode', async () => {
    expect(await startWarnings({ MODE: 'direct', DIRECT_DEADLINE_MS: '14999' })).toEqual([]);
    expect(await startWarnings({ MODE: 'queue', DIRECT_DEADLINE_MS: '20000' })).toEqual([]);
  });
});
