import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { simulateWhatsApp } from '../../cli/simulate-whatsapp.js';
import { createBot, loadConfig, type Bot, type BotOptions, type DeadLetter, type JobData, type JobQueue } from '../../src/index.js';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  BOT_NUMBER,
  OLD_AUTH_TOKEN,
  SECOND_BOT_NUMBER,
  USER_NUMBER,
  postTwilio,
  postTwilioJson,
  statusCallback,
  whatsappImage,
  whatsappMessage,
} from '../helpers/twilio-webhooks.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const PATH = '/twilio/whatsapp';

interface WhatsAppBot {
  bot: Bot;
  url: string;
  close(): Promise<void>;
}

async function startWhatsAppBot(twilioApi: FakeTwilio, ai: FakeOpenAi, env: Record<string, string> = {}, options: Partial<BotOptions> = {}): Promise<WhatsAppBot> {
  const allEnv = {
    ...testEnv,
    OPENAI_BASE_URL: ai.url,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: `${AUTH_TOKEN},${OLD_AUTH_TOKEN}`,
    TWILIO_WHATSAPP_FROM: BOT_NUMBER,
    TWILIO_API_URL: twilioApi.url,
    ...env,
  };
  const bot = createBot({ config: loadConfig(allEnv), adapters: [whatsappAdapter(whatsappConfigFromEnv(allEnv)!)], ...options });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.ready;
  return { bot, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`, close: async () => void (await bot.close()) };
}


const quiet = (ms = 200) => new Promise((resolve) => setTimeout(resolve, ms));

/** A queue that is down: every add fails, as a Redis queue does when Redis is unreachable. */
class UnavailableQueue implements JobQueue<JobData> {
  async add(): Promise<boolean> {
    throw new Error('queue unavailable (test)');
  }
  process(): void {}
  async deadLetters(): Promise<DeadLetter<JobData>[]> {
    return [];
  }
  async addDeadLetter(): Promise<void> {}
  async replay(): Promise<boolean> {
    return false;
  }
  async purge(): Promise<number> {
    return 0;
  }
  async counts() {
    return { waiting: 0, active: 0, delayed: 0, dead: 0 };
  }
  async ping(): Promise<void> {
    throw new Error('queue unavailable (test)');
  }
  async close(): Promise<{ unfinished: number }> {
    return { unfinished: 0 };
  }
}

describe('WhatsApp through Twilio, end to end (real server; Twilio and the AI faked over HTTP)', () => {
  let twilioApi: FakeTwilio;
  let ai: FakeOpenAi;
  let server: WhatsAppBot;
  beforeAll(async () => {
    twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    ai = await startFakeOpenAi();
    server = await startWhatsAppBot(twilioApi, ai);
  });
  afterAll(async () => {
    await server.close();
    await twilioApi.close();
    await ai.close();
  });
  afterEach(() => {
    twilioApi.reset();
    ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));
  });

  it('answers a message at once with empty TwiML, then replies once through the REST API', async () => {
    const res = await postTwilio(server.url, whatsappMessage({ Body: 'what is parley?' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await res.text()).toBe(EMPTY_TWIML);
    const [call] = await until(() => twilioApi.calls.length > 0 && twilioApi.calls, 'a REST send');
    expect(call!.form).toMatchObject({ From: BOT_NUMBER, To: USER_NUMBER, Body: 'echo: what is parley?' });
    expect(call!.auth).toEqual({ user: ACCOUNT_SID, password: AUTH_TOKEN });
    await quiet();
    expect(twilioApi.calls).toHaveLength(1);
  });

  it('replies from the number the person wrote to: a second sender of the account from itself, the configured one as before, in two conversations', async () => {
    await postTwilio(server.url, whatsappMessage({ To: SECOND_BOT_NUMBER, Body: 'to the second number' }));
    const [second] = await until(() => twilioApi.calls.length === 1 && twilioApi.calls, 'the reply from the second number');
    expect(second!.form).toMatchObject({ From: SECOND_BOT_NUMBER, To: USER_NUMBER, Body: 'echo: to the second number' });
    await postTwilio(server.url, whatsappMessage({ Body: 'to the configured number' }));
    const [, first] = await until(() => twilioApi.calls.length === 2 && twilioApi.calls, 'the reply from the configured number');
    expect(first!.form).toMatchObject({ From: BOT_NUMBER, To: USER_NUMBER, Body: 'echo: to the configured number' });
    // Two numbers, two conversations: the configured number's history does not hold the second's exchange.
    const asked = ai.calls.find((c) => lastUserText(c) === 'to the configured number')!;
    expect(JSON.stringify(asked.body.messages)).not.toContain('to the second number');
  });

  it('answers a job queued by an earlier version from the number its message was written to, and one without that number from TWILIO_WHATSAPP_FROM', async () => {
    // A job as the queue (Redis, SQS) holds it: plain data; `to` has always been in it.
    const job = (id: string, text: string, details: Record<string, string>): JobData => ({
      type: 'message',
      message: { id, platform: 'whatsapp', conversation: { platform: 'whatsapp', id: `${details.to ?? BOT_NUMBER}:${USER_NUMBER}`, details }, user: { id: '15551234567' }, text, receivedAt: new Date().toISOString() },
    });
    await server.bot.queue.add({ id: 'whatsapp.SMold1', group: 'old-1', data: job('SMold1', 'queued for the second number', { from: USER_NUMBER, to: SECOND_BOT_NUMBER }) });
    await until(() => twilioApi.calls.length === 1 || undefined, 'the reply to the old job');
    await server.bot.queue.add({ id: 'whatsapp.SMold2', group: 'old-2', data: job('SMold2', 'queued without to', { from: USER_NUMBER }) });
    await until(() => twilioApi.calls.length === 2 || undefined, 'the reply to the job without to');
    expect(twilioApi.calls.map((c) => [c.form.From, c.form.To, c.form.Body])).toEqual([
      [SECOND_BOT_NUMBER, USER_NUMBER, 'echo: queued for the second number'],
      [BOT_NUMBER, USER_NUMBER, 'echo: queued without to'],
    ]);
  });

  it('answers the same MessageSid once', async () => {
    const message = whatsappMessage({ Body: 'only once' });
    const [first, again] = [await postTwilio(server.url, message), await postTwilio(server.url, message)];
    expect([first.status, again.status]).toEqual([200, 200]);
    await until(() => twilioApi.calls.length > 0, 'the reply');
    await quiet(300);
    expect(twilioApi.calls).toHaveLength(1);
    expect(ai.calls.filter((c) => lastUserText(c) === 'only once')).toHaveLength(1);
  });

  it('refuses a wrong or missing signature with 403, naming the URL it checked, and sends nothing', async () => {
    const wrong = await postTwilio(server.url, whatsappMessage({ Body: 'forged' }), { token: 'not-the-auth-token' });
    expect(wrong.status).toBe(403);
    const body = (await wrong.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('bad_signature');
    expect(body.error.message).toContain(server.url);
    expect(body.error.message).toContain('PUBLIC_URL');
    expect(body.error.message).not.toContain(AUTH_TOKEN);
    expect(body.error.message).not.toContain('forged');
    const unsigned = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(whatsappMessage()).toString() });
    expect(unsigned.status).toBe(403);
    // Signed for another path: the URL is part of what Twilio signs.
    const otherUrl = await postTwilio(server.url, whatsappMessage(), { signedUrl: server.url.replace(PATH, '/elsewhere') });
    expect(otherUrl.status).toBe(403);
    await quiet();
    expect(twilioApi.calls).toHaveLength(0);
  });

  it('accepts the previous auth token while it is being rotated', async () => {
    const res = await postTwilio(server.url, whatsappMessage({ Body: 'old token' }), { token: OLD_AUTH_TOKEN });
    expect(res.status).toBe(200);
    await until(() => twilioApi.calls[0], 'the reply');
  });

  it('verifies the JSON variant by its bodySHA256', async () => {
    const message = whatsappMessage({ Body: 'json body' });
    expect((await postTwilioJson(server.url, message)).status).toBe(200);
    const [call] = await until(() => twilioApi.calls.length > 0 && twilioApi.calls, 'the reply');
    expect(call!.form.Body).toBe('echo: json body');
    // A body that no longer matches the signed hash is refused.
    const signed = await postTwilioJson(server.url, message, AUTH_TOKEN, { ...message, Body: 'changed in transit' });
    expect(signed.status).toBe(403);
  });

  it('answers a status callback 200 and does not treat it as a message', async () => {
    const res = await postTwilio(server.url, statusCallback('read'));
    expect(res.status).toBe(200);
    await quiet(300);
    expect(twilioApi.calls).toHaveLength(0);
  });

  it('refuses a malformed form body with 400', async () => {
    const { MessageSid: _sid, ...withoutSid } = whatsappMessage();
    expect((await postTwilio(server.url, withoutSid)).status).toBe(400);
    const { From: _from, ...withoutFrom } = whatsappMessage();
    expect((await postTwilio(server.url, withoutFrom)).status).toBe(400);
    const broken = await postTwilio(server.url, whatsappMessage(), { rawBody: 'Body=%E0%A4%A&MessageSid=SM1' });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: { code: 'malformed_body' } });
    await quiet();
    expect(twilioApi.calls).toHaveLength(0);
  });

  it('sends the media notice for a media-only message, without asking the AI', async () => {
    const before = ai.calls.length;
    expect((await postTwilio(server.url, whatsappImage())).status).toBe(200);
    const [call] = await until(() => twilioApi.calls.length > 0 && twilioApi.calls, 'the notice');
    expect(call!.form).toMatchObject({ To: USER_NUMBER, Body: 'I can only read text messages for now.' });
    expect(ai.calls.length).toBe(before);
  });

  it('splits a 4,000-character reply into ordered messages of at most 1,600 characters', async () => {
    const sentences = Array.from({ length: 80 }, (_, i) => `Sentence number ${i + 1} says something of about fifty chars.`);
    const reply = sentences.join(' ');
    expect(reply.length).toBeGreaterThanOrEqual(4000);
    ai.script(() => ({ text: reply }));
    await postTwilio(server.url, whatsappMessage({ Body: 'write a lot' }));
    await until(() => twilioApi.calls.length >= 3, 'three parts');
    await quiet(300);
    const bodies = twilioApi.bodies();
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    expect(bodies.every((b) => b.length <= 1600)).toBe(true);
    expect(bodies.join(' ')).toBe(reply);
    expect(twilioApi.calls.every((c) => c.form.To === USER_NUMBER)).toBe(true);
  });

  it('retries a failed part of a long reply without resending the parts that went out', async () => {
    const paragraphs = Array.from({ length: 4 }, (_, i) => `Paragraph ${i + 1}. ${'word '.repeat(250).trim()}`);
    ai.script(() => ({ text: paragraphs.join('\n\n') }));
    twilioApi.on((_call, n) => (n === 1 ? twilioApi.error(500, 20500, 'Internal Server Error') : undefined));
    await postTwilio(server.url, whatsappMessage({ Body: 'long, with a hiccup' }));
    await until(() => twilioApi.calls.length >= 5, 'every part, one retried', 15_000); // Twilio down for now: waited 5 s
    await quiet(300);
    const delivered = twilioApi.calls.filter((_c, i) => i !== 1).map((c) => c.form.Body);
    expect(delivered).toEqual(paragraphs);
    expect(twilioApi.calls).toHaveLength(5);
  });

  it('dead-letters a reply outside the 24-hour window (63016) without retrying it', async () => {
    twilioApi.on(() => twilioApi.error(400, 63016, 'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.'));
    const message = whatsappMessage({ Body: 'late reply' });
    await postTwilio(server.url, message);
    const dead = await waitForDeadLetter(server.bot, `whatsapp.${message.MessageSid}`);
    expect(dead.reason).toBe('whatsapp_63016');
    expect(dead.attempts).toBe(1);
    await quiet(300);
    // One attempt: no retry (and no apology, which Twilio would refuse the same way).
    expect(twilioApi.calls).toHaveLength(1);
    expect(twilioApi.calls[0]!.form.Body).toBe('echo: late reply');
  });

  it('waits out a 429 and delivers once', async () => {
    twilioApi.on((_call, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 } } : undefined));
    await postTwilio(server.url, whatsappMessage({ Body: 'rate limited' }));
    const calls = await until(() => twilioApi.calls.length === 2 && twilioApi.calls, 'the retried send');
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
    expect(calls[1]!.form.Body).toBe('echo: rate limited');
    await quiet(300);
    expect(twilioApi.calls).toHaveLength(2);
  });

  it('retries a send after Twilio is unreachable for a moment', async () => {
    twilioApi.on((_call, n) => (n === 0 ? { hangUp: true } : undefined));
    await postTwilio(server.url, whatsappMessage({ Body: 'flaky network' }));
    const calls = await until(() => twilioApi.calls.length === 2 && twilioApi.calls, 'the retried send');
    expect(calls[1]!.form.Body).toBe('echo: flaky network');
  });
});

async function waitForDeadLetter(bot: Bot, id: string): Promise<DeadLetter<JobData>> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const letter = (await bot.deadLetters.list()).find((l) => l.id === id);
    if (letter) return letter;
    if (Date.now() > deadline) throw new Error(`no dead letter ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('WhatsApp: the URL Twilio signed, behind a proxy', () => {
  const publicUrl = 'https://bot.example.com';
  const proxyHeaders = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'bot.example.com' };
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

  it.each([
    ['forwarded headers but neither PUBLIC_URL nor TRUST_PROXY', {}, proxyHeaders, 403],
    ['PUBLIC_URL', { PUBLIC_URL: publicUrl }, {}, 200],
    ['TRUST_PROXY=true and X-Forwarded-Proto/Host', { TRUST_PROXY: 'true' }, proxyHeaders, 200],
    ['TRUST_PROXY=true but no forwarded headers', { TRUST_PROXY: 'true' }, {}, 403],
    ['TRUST_PROXY=2 (a hop count) and X-Forwarded-Proto/Host', { TRUST_PROXY: '2' }, proxyHeaders, 200],
  ] as const)('signed for the public https URL, with %s', async (_name, env, headers, status) => {
    const server = await startWhatsAppBot(twilioApi, ai, env);
    try {
      const res = await postTwilio(server.url, whatsappMessage(), { signedUrl: `${publicUrl}${PATH}`, headers });
      expect(res.status).toBe(status);
    } finally {
      await server.close();
    }
  });
});

describe('parley simulate whatsapp, PUBLIC_URL with a path', () => {
  let twilioApi: FakeTwilio;
  let ai: FakeOpenAi;
  let server: WhatsAppBot;
  const env = { PUBLIC_URL: 'https://bot.example.com/bot' };
  beforeAll(async () => {
    twilioApi = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    ai = await startFakeOpenAi();
    server = await startWhatsAppBot(twilioApi, ai, env);
  });
  afterAll(async () => {
    await server.close();
    await twilioApi.close();
    await ai.close();
  });

  it.each([
    ['a proxy that keeps the path', (url: string) => url.replace(PATH, `/bot${PATH}`)],
    ['a proxy that strips it', (url: string) => url],
  ])('signs for the URL the server checks, through %s', async (_name, target) => {
    const config = loadConfig({ ...testEnv, ...env, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER });
    const before = twilioApi.calls.length;
    expect(await simulateWhatsApp(config, { text: 'hello from the CLI', url: target(server.url) })).toBe(0);
    await until(() => twilioApi.calls.length > before || undefined, 'the reply');
    expect(twilioApi.calls.at(-1)!.form.Body).toBe('echo: hello from the CLI');
  });

  it('writes to the number --to names, which the reply comes from (TWILIO_WHATSAPP_FROM without it)', async () => {
    const config = loadConfig({ ...testEnv, ...env, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER });
    const before = twilioApi.calls.length;
    expect(await simulateWhatsApp(config, { text: 'to the second number', to: SECOND_BOT_NUMBER.replace('whatsapp:', ''), url: server.url })).toBe(0);
    const calls = await until(() => twilioApi.calls.length > before && twilioApi.calls, 'the reply');
    expect(calls.at(-1)!.form).toMatchObject({ From: SECOND_BOT_NUMBER, Body: 'echo: to the second number' });
    expect(await simulateWhatsApp(config, { text: 'to the configured number', url: server.url })).toBe(0);
    await until(() => twilioApi.calls.length > before + 1 || undefined, 'the second reply');
    expect(twilioApi.calls.at(-1)!.form).toMatchObject({ From: BOT_NUMBER, Body: 'echo: to the configured number' });
  });

  it('writes from --from as Twilio writes a number (whatsapp:+…), given with or without its + and whatsapp:', async () => {
    const config = loadConfig({ ...testEnv, ...env, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER });
    for (const [i, given] of ['15551112222', 'whatsapp:15551112223', '+15551112224'].entries()) {
      const before = twilioApi.calls.length;
      expect(await simulateWhatsApp(config, { text: `from ${given}`, from: given, url: server.url })).toBe(0);
      const calls = await until(() => twilioApi.calls.length > before && twilioApi.calls, 'the reply');
      expect(calls.at(-1)!.form).toMatchObject({ To: `whatsapp:+1555111222${2 + i}`, Body: `echo: from ${given}` });
    }
  });
});

describe('WhatsApp: direct mode and an unavailable queue', () => {
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

  it('direct mode answers with TwiML <Message>s carrying the reply, and no REST call', async () => {
    const server = await startWhatsAppBot(twilioApi, ai, { MODE: 'direct' });
    try {
      const res = await postTwilio(server.url, whatsappMessage({ Body: 'hi & <bye>' }));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
      expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Message>echo: hi &amp; &lt;bye&gt;</Message></Response>');

      ai.script(() => ({ text: `**Long** answer. ${'More words here. '.repeat(200)}`.trim() }));
      const long = await (await postTwilio(server.url, whatsappMessage({ Body: 'long' }))).text();
      const messages = [...long.matchAll(/<Message>([\s\S]*?)<\/Message>/g)].map((m) => m[1]!);
      expect(messages.length).toBeGreaterThanOrEqual(3);
      expect(messages.every((m) => m.length <= 1600)).toBe(true);
      expect(messages[0]).toMatch(/^\*Long\* answer\./);
      await quiet();
      expect(twilioApi.calls).toHaveLength(0);
    } finally {
      ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));
      await server.close();
    }
  });

  it('direct mode past the deadline answers empty TwiML and sends the reply through the REST API', async () => {
    ai.script(() => ({ text: 'slow answer', delayMs: 400 }));
    const server = await startWhatsAppBot(twilioApi, ai, { MODE: 'direct', DIRECT_DEADLINE_MS: '100' });
    try {
      const res = await postTwilio(server.url, whatsappMessage({ Body: 'slow' }));
      expect(await res.text()).toBe(EMPTY_TWIML);
      const [call] = await until(() => twilioApi.calls.length > 0 && twilioApi.calls, 'the late reply');
      expect(call!.form).toMatchObject({ To: USER_NUMBER, Body: 'slow answer' });
    } finally {
      ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));
      twilioApi.reset();
      await server.close();
    }
  });

  it('direct mode waits out a late reply Twilio failed for now (503), without asking the AI again', async () => {
    ai.calls.length = 0;
    ai.script(() => ({ text: 'slow answer', delayMs: 300 }));
    twilioApi.on((_call, n) => (n === 0 ? twilioApi.error(503, 20500, 'Service Unavailable') : undefined));
    const server = await startWhatsAppBot(twilioApi, ai, { MODE: 'direct', DIRECT_DEADLINE_MS: '100' });
    try {
      const message = whatsappMessage({ Body: 'slow' });
      expect(await (await postTwilio(server.url, message)).text()).toBe(EMPTY_TWIML);
      await until(() => twilioApi.calls.length === 2, 'the retried late reply', 15_000); // Twilio down for now: waited 5 s
      await quiet(300);
      // The answer, refused once then delivered; no apology, no dead letter, and one AI call.
      expect(twilioApi.bodies()).toEqual(['slow answer', 'slow answer']);
      expect(ai.calls).toHaveLength(1);
      expect(await server.bot.deadLetters.list()).toEqual([]);
    } finally {
      ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));
      twilioApi.reset();
      await server.close();
    }
  });

  it('direct mode dead-letters a late reply outside the 24-hour window (63016) with reason whatsapp_63016, as queue mode does', async () => {
    ai.script(() => ({ text: 'slow answer', delayMs: 300 }));
    twilioApi.on(() => twilioApi.error(400, 63016, 'Failed to send freeform message because you are outside the allowed window.'));
    const server = await startWhatsAppBot(twilioApi, ai, { MODE: 'direct', DIRECT_DEADLINE_MS: '100' });
    try {
      const message = whatsappMessage({ Body: 'slow' });
      expect(await (await postTwilio(server.url, message)).text()).toBe(EMPTY_TWIML);
      const dead = await waitForDeadLetter(server.bot, `whatsapp.${message.MessageSid}`);
      expect(dead.reason).toBe('whatsapp_63016');
      const metrics = await (await fetch(new URL('/metrics', server.url))).text();
      expect(metrics).toMatch(/^parley_dead_lettered_total\{platform="whatsapp",reason="whatsapp_63016"\} 1$/m);
      expect(metrics).not.toMatch(/reason="direct_failed"/);
      // Not retried, and no apology (Twilio would refuse it the same way).
      await quiet(300);
      expect(twilioApi.bodies()).toEqual(['slow answer']);
    } finally {
      ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));
      twilioApi.reset();
      await server.close();
    }
  });

  it('answers in-process when the queue cannot take the message (Twilio does not redeliver)', async () => {
    const server = await startWhatsAppBot(twilioApi, ai, {}, { queue: new UnavailableQueue() });
    try {
      const res = await postTwilio(server.url, whatsappMessage({ Body: 'queue is down' }));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(EMPTY_TWIML);
      const [call] = await until(() => twilioApi.calls.length > 0 && twilioApi.calls, 'the in-process reply');
      expect(call!.form).toMatchObject({ To: USER_NUMBER, Body: 'echo: queue is down' });
    } finally {
      twilioApi.reset();
      await server.close();
    }
  });

  it('sends through the Messaging Service when one is configured, which picks the sender (no From), whatever number was written to', async () => {
    const service = `MG${'b2'.repeat(16)}`;
    const server = await startWhatsAppBot(twilioApi, ai, { TWILIO_WHATSAPP_FROM: '', TWILIO_MESSAGING_SERVICE_SID: service });
    try {
      await postTwilio(server.url, whatsappMessage({ Body: 'via service' }));
      const [call] = await until(() => twilioApi.calls.length > 0 && twilioApi.calls, 'the reply');
      expect(call!.form).toMatchObject({ MessagingServiceSid: service, To: USER_NUMBER, Body: 'echo: via service' });
      expect(call!.form.From).toBeUndefined();
      await postTwilio(server.url, whatsappMessage({ To: SECOND_BOT_NUMBER, Body: 'via service, second number' }));
      const [, second] = await until(() => twilioApi.calls.length > 1 && twilioApi.calls, 'the second reply');
      expect(second!.form).toMatchObject({ MessagingServiceSid: service, To: USER_NUMBER, Body: 'echo: via service, second number' });
      expect(second!.form.From).toBeUndefined();
      // A job without the number written to: the service picks the sender.
      const details = { from: USER_NUMBER };
      const message = { id: 'SMnoTo', platform: 'whatsapp', conversation: { platform: 'whatsapp', id: `none:${USER_NUMBER}`, details }, user: { id: '15551234567' }, text: 'no to', receivedAt: new Date().toISOString() };
      await server.bot.queue.add({ id: 'whatsapp.SMnoTo', group: 'no-to', data: { type: 'message', message } });
      const [, , third] = await until(() => twilioApi.calls.length > 2 && twilioApi.calls, 'the reply to the job without to');
      expect(third!.form).toMatchObject({ MessagingServiceSid: service, To: USER_NUMBER, Body: 'echo: no to' });
      expect(third!.form.From).toBeUndefined();
    } finally {
      twilioApi.reset();
      await server.close();
    }
  });
});
