/**
 * The in-process queue holds at most QUEUE_MAX_MESSAGES jobs: a flood beyond what the AI answers
 * grew the heap without end (measured: ~5 KB a waiting message, 100,000 waiting = 490 MB) until the
 * process died with every message in it. Past the limit Slack gets a 503 (it redelivers, and the
 * redelivery is taken once there is room), WhatsApp a TwiML notice (Twilio does not redeliver:
 * answering in this process would hold the message in memory all the same), one warning a minute.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { QUEUE_FULL_NOTICE } from '../../src/accept.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { MemoryQueue, QueueFullError } from '../../src/queue/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { ACCOUNT_SID, AUTH_TOKEN, BOT_NUMBER, postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { startWebBot, testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

type Line = Record<string, unknown>;
const closing: (() => Promise<unknown>)[] = [];
/** A test that fails before it releases its AI must not hold its bot's shutdown: released first. */
const releases: (() => void)[] = [];
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const close of closing.splice(0).reverse()) await close();
});

/** A fake AI that answers nothing until `release()`. */
async function heldAi(): Promise<{ ai: FakeOpenAi; release(): void }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const ai = await startFakeOpenAi((call) => ({ text: `echo: ${String(call.body.messages.at(-1)?.content)}`, hold: held }));
  closing.push(() => ai.close());
  releases.push(release);
  return { ai, release };
}

function capture() {
  const lines: Line[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) }) };
}

describe('MemoryQueue with maxJobs', () => {
  it('refuses a job past the limit, still knows a duplicate, and takes jobs again once one is done', async () => {
    const queue = new MemoryQueue<string>({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 }, { maxJobs: 2 });
    expect(await queue.add({ id: 'a', group: 'a', data: 'a' })).toBe(true);
    expect(await queue.add({ id: 'b', group: 'b', data: 'b' })).toBe(true);
    await expect(queue.add({ id: 'c', group: 'c', data: 'c' })).rejects.toBeInstanceOf(QueueFullError);
    expect(await queue.add({ id: 'a', group: 'a', data: 'a' })).toBe(false);
    const done: string[] = [];
    queue.process(async (job) => void done.push(job.id), { concurrency: 1 });
    await until(() => done.length === 2, 'both jobs run');
    expect(await queue.add({ id: 'c', group: 'c', data: 'c' })).toBe(true);
    await queue.close(1000);
  });
});

describe('a full in-process queue', () => {
  it('Slack: 503 queue_full past the limit, one warning; the redelivery is taken and answered once there is room', async () => {
    const { ai, release } = await heldAi();
    const slack: FakeSlack = await startFakeSlack();
    closing.push(() => slack.close());
    const { lines, logger } = capture();
    const server: SlackBot = await startSlackBot(slack, ai, { QUEUE_MAX_MESSAGES: '2', LOG_LEVEL: 'info' }, undefined, { bot: { logger } });
    closing.push(() => server.close());

    const events = Array.from({ length: 6 }, (_, i) => appMention({ text: `question ${i}` }));
    const statuses: number[] = [];
    for (const event of events) statuses.push((await postSlack(server.url, event)).status);
    expect(statuses).toEqual([200, 200, 503, 503, 503, 503]);
    const refused = await postSlack(server.url, events[2]!, { retryNum: 1 });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('queue_full');
    expect(lines.filter((line) => line.level === 40 && line.reason === 'queue_full')).toHaveLength(1);

    release();
    const posts = () => slack.callsTo('chat.postMessage').map((call) => String(call.args.text));
    await until(() => posts().length >= 2, 'the two queued answers');
    await until(async () => (await server.bot.queue.counts()).active === 0, 'the queue idle');
    // Slack's next retry of a refused event: taken now, answered once.
    expect((await postSlack(server.url, events[2]!, { retryNum: 2 })).status).toBe(200);
    await until(() => posts().includes('echo: question 2'), 'the redelivered answer');
    expect(posts().sort()).toEqual(['echo: question 0', 'echo: question 1', 'echo: question 2']);
  });

  it("Slack: a message over the user's limit whose notice the full queue cannot take is refused all the same (200, no notice), not 503 to be redelivered and refused again", async () => {
    const { ai, release } = await heldAi();
    const slack: FakeSlack = await startFakeSlack();
    closing.push(() => slack.close());
    const server: SlackBot = await startSlackBot(slack, ai, { QUEUE_MAX_MESSAGES: '1', RATE_LIMIT_USER_PER_MINUTE: '1' });
    closing.push(() => server.close());
    expect((await postSlack(server.url, appMention({ text: 'first' }))).status).toBe(200);
    // Over the limit: refused, and its notice finds the queue full.
    expect((await postSlack(server.url, appMention({ text: 'second' }))).status).toBe(200);
    release();
    const posts = () => slack.callsTo('chat.postMessage').map((call) => String(call.args.text));
    await until(() => posts().length >= 1, 'the first answer');
    await until(async () => (await server.bot.queue.counts()).active === 0, 'the queue idle');
    expect(posts()).toEqual(['echo: first']);
  });

  it('WhatsApp: past the limit the webhook answers with a notice (TwiML), and the message is not answered in this process', async () => {
    const { ai, release } = await heldAi();
    const twilioApi: FakeTwilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    closing.push(() => twilioApi.close());
    const env = { ...testEnv, OPENAI_BASE_URL: ai.url, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: twilioApi.url, QUEUE_MAX_MESSAGES: '1' };
    const bot: Bot = createBot({ config: loadConfig(env), adapters: [whatsappAdapter(whatsappConfigFromEnv(env)!)] });
    closing.push(() => bot.close());
    const url = `http://127.0.0.1:${((await bot.listen(0, '127.0.0.1')).address() as AddressInfo).port}/twilio/whatsapp`;
    await bot.ready;

    const first = await postTwilio(url, whatsappMessage({ Body: 'first', From: 'whatsapp:+15550000001' }));
    expect(first.status).toBe(200);
    await until(() => ai.calls.length === 1, 'the first message at the AI');
    const second = await postTwilio(url, whatsappMessage({ Body: 'second', From: 'whatsapp:+15550000002' }));
    expect(second.status).toBe(200);
    const twiml = await second.text();
    expect(twiml).toContain('<Message>');
    expect(twiml).toContain(QUEUE_FULL_NOTICE);

    release();
    await until(() => twilioApi.messages.length === 1, 'the first answer');
    await until(async () => (await bot.queue.counts()).active === 0, 'the queue idle');
    expect(ai.calls).toHaveLength(1);
    expect(twilioApi.messages.map((m) => m.body ?? m.Body)).toEqual(['echo: first']);
  });

  it('web chat: 503 queue_full past the limit; the page sends the same message again once there is room, shown and answered once', async () => {
    const { ai, release } = await heldAi();
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, QUEUE_MAX_MESSAGES: '1' });
    closing.push(() => web.close());
    expect((await web.post('conversation-first-0001', 'first', { id: 'message-first-0000001' })).status).toBe(202);
    const refused = await web.post('conversation-second-001', 'second', { id: 'message-second-000001' });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('queue_full');

    release();
    await web.waitFor('conversation-first-0001', (entries) => entries.some((e) => e.role === 'assistant'));
    await until(async () => (await web.bot.queue.counts()).active === 0, 'the queue idle');
    expect((await web.post('conversation-second-001', 'second', { id: 'message-second-000001' })).status).toBe(202);
    const entries = await web.waitFor('conversation-second-001', (e) => e.some((entry) => entry.role === 'assistant'));
    expect(entries.map((e) => [e.role, e.text])).toEqual([
      ['user', 'second'],
      ['assistant', 'echo: second'],
    ]);
  });
});
