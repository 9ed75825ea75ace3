/**
 * The in-process queue holds at most QUEUE_MAX_MESSAGES jobs: a flood beyond what the AI answers
 * grew the heap without end (measured: ~5 KB a waiting message, 100,000 waiting = 490 MB) until the
 * process died with every message in it. Past the limit Slack gets a 503 (it redelivers, and the
 * redelivery is taken once there is room), one warning a minute. WhatsApp (Twilio does not
 * redeliver) is answered in this process while few are (twice WORKER_CONCURRENCY), and past that,
 * a flood, gets a TwiML notice to send it again.
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
import { metricValue } from '../helpers/ops.js';
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

  /** A bot with WhatsApp on the in-process queue, its AI `ai`; `env` sets the queue's limits. */
  async function whatsappBot(ai: FakeOpenAi, env: Record<string, string>, logger?: pino.Logger) {
    const twilioApi: FakeTwilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    closing.push(() => twilioApi.close());
    const all = { ...testEnv, OPENAI_BASE_URL: ai.url, TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_WHATSAPP_FROM: BOT_NUMBER, TWILIO_API_URL: twilioApi.url, ...env };
    const bot: Bot = createBot({ config: loadConfig(all), adapters: [whatsappAdapter(whatsappConfigFromEnv(all)!)], ...(logger ? { logger } : {}) });
    closing.push(() => bot.close());
    const url = `http://127.0.0.1:${((await bot.listen(0, '127.0.0.1')).address() as AddressInfo).port}/twilio/whatsapp`;
    await bot.ready;
    const sent = () => twilioApi.calls.map((call) => [call.form.To, call.form.Body]);
    return { bot, url, twilioApi, sent };
  }
  const sender = (n: number) => `whatsapp:+1555000000${n}`;

  it('WhatsApp: past the limit the message is answered in this process (one REST send each, none twice, with its history), no notice to send it again', async () => {
    const { ai, release } = await heldAi();
    const { bot, url, twilioApi, sent } = await whatsappBot(ai, { QUEUE_MAX_MESSAGES: '1', WORKER_CONCURRENCY: '1' });

    expect((await postTwilio(url, whatsappMessage({ Body: 'first', From: sender(1) }))).status).toBe(200);
    await until(() => ai.calls.length === 1, 'the first message at the AI');
    // The queue is full: the next two are answered here (the bound is twice WORKER_CONCURRENCY).
    const second = whatsappMessage({ Body: 'second', From: sender(2) });
    for (const form of [second, whatsappMessage({ Body: 'third', From: sender(3) })]) {
      const answer = await postTwilio(url, form);
      expect(answer.status).toBe(200);
      const twiml = await answer.text();
      expect(twiml).not.toContain(QUEUE_FULL_NOTICE);
      expect(twiml).not.toContain('<Message>');
    }
    await until(() => ai.calls.length === 3, 'the overflow at the AI while the queue still holds the first');
    // The same delivery again: a duplicate, not a second answer.
    expect(await (await postTwilio(url, second)).text()).not.toContain(QUEUE_FULL_NOTICE);

    release();
    await until(() => twilioApi.calls.length === 3, 'three answers');
    await until(async () => (await bot.queue.counts()).active === 0, 'the queue idle');
    await bot.inProcessAnswers();
    expect(ai.calls).toHaveLength(3);
    expect(sent().sort()).toEqual([
      [sender(1), 'echo: first'],
      [sender(2), 'echo: second'],
      [sender(3), 'echo: third'],
    ]);

    // Answered with the bot's own store, not a stand-in: the queued follow-up sees the exchange in its history.
    expect((await postTwilio(url, whatsappMessage({ Body: 'again', From: sender(2) }))).status).toBe(200);
    await until(() => twilioApi.calls.length === 4, 'the follow-up answer');
    const followUp = ai.calls.at(-1)!.body.messages.map((m) => String(m.content));
    expect(followUp.slice(-3)).toEqual(['second', 'echo: second', 'again']);
  });

  it('WhatsApp: a flood past the limit and past twice WORKER_CONCURRENCY answered here gets the notice to send it again (TwiML), and those are not answered', async () => {
    const { ai, release } = await heldAi();
    const { lines, logger } = capture();
    const { bot, url, twilioApi, sent } = await whatsappBot(ai, { QUEUE_MAX_MESSAGES: '2', WORKER_CONCURRENCY: '2' }, logger);

    const twimls: string[] = [];
    const requestIds: (string | null)[] = [];
    for (let n = 0; n < 10; n++) {
      const answer = await postTwilio(url, whatsappMessage({ Body: `question ${n}`, From: sender(n) }));
      requestIds.push(answer.headers.get('x-request-id'));
      twimls.push(await answer.text());
    }
    // Two queued, four answered here (2 × 2), the other four told to send again.
    expect(twimls.map((twiml) => twiml.includes(QUEUE_FULL_NOTICE))).toEqual([false, false, false, false, false, false, true, true, true, true]);
    // Each request line says which (README, Operations, Logs: `outcome`).
    const outcomes = await until(() => {
      const found = requestIds.map((id) => lines.find((line) => line.msg === 'request' && line.requestId === id));
      return found.every(Boolean) && found.map((line) => line!.outcome);
    }, 'the ten request lines');
    expect(outcomes).toEqual(['queued', 'queued', 'answered', 'answered', 'answered', 'answered', 'queue_full', 'queue_full', 'queue_full', 'queue_full']);
    await until(() => ai.calls.length === 6, 'the queued and the in-process answers at the AI');

    release();
    await until(() => twilioApi.calls.length === 6, 'six answers');
    await until(async () => (await bot.queue.counts()).active === 0, 'the queue idle');
    await bot.inProcessAnswers();
    expect(ai.calls).toHaveLength(6);
    expect(sent().sort()).toEqual([0, 1, 2, 3, 4, 5].map((n) => [sender(n), `echo: question ${n}`]));
  });

  it('WhatsApp: a message answered here past the limit and given up (its apology sent) is dead-lettered and counted, as the queue would have', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    releases.push(release);
    // The first holds the queue's one place; the overflow's AI call fails for good (a 400).
    const ai = await startFakeOpenAi((call) => (String(call.body.messages.at(-1)?.content) === 'first' ? { text: 'echo: first', hold: held } : { status: 400 }));
    closing.push(() => ai.close());
    const { bot, url, sent } = await whatsappBot(ai, { QUEUE_MAX_MESSAGES: '1', WORKER_CONCURRENCY: '1' });

    expect((await postTwilio(url, whatsappMessage({ Body: 'first', From: sender(1) }))).status).toBe(200);
    await until(() => ai.calls.length === 1, 'the first message at the AI');
    const overflow = whatsappMessage({ Body: 'second', From: sender(2) });
    expect(await (await postTwilio(url, overflow)).text()).not.toContain(QUEUE_FULL_NOTICE);
    await bot.inProcessAnswers();
    expect(sent()).toEqual([[sender(2), expect.stringMatching(/sorry/i)]]);

    const letters = await bot.deadLetters.list();
    expect(letters.map((letter) => [letter.id, letter.reason])).toEqual([[`whatsapp.${overflow.MessageSid}`, expect.any(String)]]);
    expect(await metricValue(bot.metrics, 'parley_dead_lettered_total', { platform: 'whatsapp', reason: letters[0]!.reason })).toBe(1);

    // Replayable: once there is room the queue takes it and asks the AI again.
    release();
    await until(async () => (await bot.queue.counts()).active === 0, 'the queue idle');
    expect(await bot.deadLetters.replay(letters[0]!.id)).toBe(true);
    await until(() => ai.calls.length === 3, 'the replay at the AI');
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
