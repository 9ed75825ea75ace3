/**
 * A job whose data is not a parley job (sent by hand, a broken replay): on every queue — memory,
 * BullMQ on a real Redis, SQS on the moto server — it is dead-lettered on its first run as
 * `invalid_job`, with one log line and no second error, never retried; `parley dlq drop` removes it.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dlq } from '../../cli/dlq.js';
import { webChat } from '../../adapters/web/index.js';
import { sqsQueueFromConfig, sqsWorker } from '../../aws/index.js';
import { BullQueue, createBot, loadConfig, MemoryStore, type Bot, type DeadLetter, type JobData, type JobQueue } from '../../src/index.js';
import { useMoto } from '../helpers/moto.js';
import { metricValue } from '../helpers/ops.js';
import { freshQueues, receive, sqsEvent } from '../helpers/sqs.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

const moto = useMoto();
let client: SQSClient;
const closers: Bot[] = [];
beforeAll(() => {
  client = new SQSClient({ endpoint: moto().url });
});
afterAll(async () => {
  for (const bot of closers) await bot.close();
});

const BAD = { platform: 'slack', nonsense: 1 } as unknown as JobData;

/** A bot whose log lines are kept, at debug. */
function botWith(env: Record<string, string>, extra: Parameters<typeof createBot>[0] = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const config = loadConfig({ ...testEnv, JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '1', ...env });
  const bot = createBot({ config, adapters: [webChat({ token: 'x'.repeat(32) })], logger, ...extra });
  closers.push(bot);
  const said = () => lines.filter((l) => l.level as number >= 40).map((l) => String(l.msg));
  return { bot, lines, said };
}

describe('a job whose data is not a parley job is poison on every queue', () => {
  it.each([
    ['memory', {}],
    ['BullMQ (Redis)', { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `invalid-job-${process.pid}-${Date.now()}` }],
  ])('%s: dead-lettered at once as invalid_job, with a log line', async (_name, env) => {
    const { bot, said } = botWith(env);
    await bot.start();
    await bot.queue.add({ id: 'x1', group: 'g2', data: BAD });
    const [letter] = await until(() => bot.queue.deadLetters().then((l) => l.length > 0 && l), 'the dead letter', 10_000);
    expect(letter).toMatchObject({ id: 'x1', reason: 'invalid_job', attempts: 1 });
    expect(letter!.error).toMatch(/not a parley job/);
    expect(said().filter((m) => /not a parley job/.test(m))).toHaveLength(1);
    expect(said().join('\n')).not.toMatch(/TypeError|Cannot read/);
    await bot.queue.purge();
  });

  it.each([
    ['not shaped as a parley job at all', { hello: 'world' }],
    ["shaped as parley's, with broken data", { group: 'g9', data: BAD }],
  ])('BullMQ (Redis): a job added to BullMQ by hand, %s, is dead-lettered as invalid_job with a log line (it holds no ticket)', async (_name, data) => {
    const prefix = `invalid-hand-${process.pid}-${Date.now()}`;
    const { bot, said } = botWith({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix });
    await bot.start();
    const { Queue } = await import('bullmq');
    const byHand = new Queue('messages', { connection: { host: '127.0.0.1', port: 6379 }, prefix });
    try {
      await byHand.add('message', data, { jobId: 'hand1' });
      const [letter] = await until(() => bot.queue.deadLetters().then((l) => l.length > 0 && l), 'the dead letter', 10_000);
      expect(letter).toMatchObject({ id: 'hand1', reason: 'invalid_job', attempts: 1 });
      expect(said().filter((m) => /not a parley job/.test(m))).toHaveLength(1);
      expect(said().join('\n')).not.toMatch(/TypeError|Cannot read/);
      await bot.queue.purge();
    } finally {
      await byHand.close();
    }
  });

  it('the console will not replay it: 409 not_a_job, and the letter stays', async () => {
    const admin = 'a'.repeat(32);
    const { bot } = botWith({ ADMIN_TOKEN: admin });
    await bot.start();
    await bot.queue.add({ id: 'x2', group: 'g3', data: BAD });
    await until(() => bot.queue.deadLetters().then((l) => l.length > 0), 'the dead letter', 10_000);
    const res = await bot.fetch(
      new Request('http://127.0.0.1/console/api/dead-letters/x2/replay', { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{}' }),
    );
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: 'not_a_job' } });
    expect((await bot.queue.deadLetters()).map((l) => l.id)).toEqual(['x2']);
  });

  it('memory: bot.deadLetters.drop removes it (the in-process queue has no parley dlq), and no other', async () => {
    const { bot } = botWith({});
    await bot.start();
    await bot.queue.add({ id: 'x3', group: 'g4', data: BAD });
    await bot.queue.addDeadLetter({ id: 'kept', group: 'g5', data: BAD, error: 'x', reason: 'direct_failed', attempts: 1, failedAt: new Date().toISOString() });
    await until(() => bot.deadLetters.list().then((l) => l.length === 2), 'the dead letters', 10_000);
    expect(await bot.deadLetters.drop('x3')).toBe(true);
    expect(await bot.deadLetters.drop('x3')).toBe(false);
    expect((await bot.deadLetters.list()).map((l) => l.id)).toEqual(['kept']);
  });

  it('SQS: dead-lettered on the first worker run, not left in batchItemFailures, with a log line', async () => {
    const { queueUrl } = await freshQueues(client, 1);
    const env = { SQS_QUEUE_URL: queueUrl };
    const { bot, said } = botWith(env, { store: new MemoryStore(), queue: sqsQueueFromConfig(loadConfig({ ...testEnv, JOB_ATTEMPTS: '3', ...env }), { client, peekWaitSeconds: 0 }) });
    const worker = sqsWorker(bot);
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageGroupId: 'g2', MessageDeduplicationId: 'dx1', MessageBody: JSON.stringify({ id: 'x1', group: 'g2', delivery: 'dx1', data: BAD }) }));
    const messages = await until(() => receive(client, queueUrl).then((m) => m.length > 0 && m), 'the message');
    const answer = await worker({ Records: messages.map((m) => ({ messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, attributes: { MessageGroupId: m.Attributes!.MessageGroupId! } })) } as never);
    expect(answer.batchItemFailures).toEqual([]);
    const [letter] = await until(() => bot.queue.deadLetters().then((l) => l.length > 0 && l), 'the dead letter', 10_000);
    expect(letter).toMatchObject({ id: 'x1', reason: 'invalid_job', attempts: 1 });
    expect(said().filter((m) => /not a parley job/.test(m))).toHaveLength(1);
    expect(said().join('\n')).not.toMatch(/TypeError|Cannot read/);
  });
});

describe('SQS: a message body that is no parley envelope at all (sent to the queue by hand)', () => {
  it.each([
    ['not JSON', 'hello from the console, secret-ish text', /the body is not JSON \(\d+ characters\)/],
    ['JSON without the envelope', JSON.stringify({ hello: 'secret-ish text' }), /lacks parley's envelope fields: id, group, delivery, data/],
  ])('%s: dead-lettered at once with one error line saying what is wrong; the body only at debug', async (_name, body, problem) => {
    const { queueUrl } = await freshQueues(client, 1);
    const env = { SQS_QUEUE_URL: queueUrl };
    const { bot, lines } = botWith(env, { store: new MemoryStore(), queue: sqsQueueFromConfig(loadConfig({ ...testEnv, JOB_ATTEMPTS: '3', ...env }), { client, peekWaitSeconds: 0 }) });
    const worker = sqsWorker(bot);
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageGroupId: 'g', MessageDeduplicationId: `by-hand-${Date.now()}`, MessageBody: body }));
    const messages = await until(() => receive(client, queueUrl).then((m) => m.length > 0 && m), 'the message');
    const answer = await worker(sqsEvent(messages));
    expect(answer.batchItemFailures).toEqual([]);
    const [letter] = await until(() => bot.queue.deadLetters().then((l) => l.length > 0 && l), 'the dead letter', 10_000);
    expect(letter).toMatchObject({ reason: 'invalid_job', error: expect.stringMatching(problem) });
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(String(errors[0]!.msg)).toMatch(/not a parley job/);
    expect(String(errors[0]!.msg)).toMatch(problem);
    expect(lines.filter((l) => (l.level as number) >= 40 && JSON.stringify(l).includes('secret-ish'))).toEqual([]);
    expect(lines.filter((l) => l.level === 20 && l.body === body)).toHaveLength(1);
    // Counted as the Redis and memory queues count theirs (no platform to read: unknown), so the alert on it fires.
    expect(await metricValue(bot.metrics, 'parley_dead_lettered_total', { platform: 'unknown', reason: 'invalid_job' })).toBe(1);
  });
});

/** `parley dlq …` as a user runs it (the command's own function): its exit code and what it printed. */
async function parleyDlq(env: Record<string, string>, args: string[], all = false) {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void out.push(line));
  try {
    const code = await dlq(loadConfig({ ...testEnv, ...env }), args, all);
    return { code, out: out.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const letter = (id: string, data: unknown, reason: string): DeadLetter<JobData> => ({ id, group: 'g', data: data as JobData, error: 'x', reason, attempts: 1, failedAt: new Date().toISOString() });
const good = { type: 'message', message: { id: 'm1', platform: 'web', text: 'hi', receivedAt: new Date().toISOString(), user: { id: 'u' }, conversation: { platform: 'web', id: 'c1' } } };

describe('parley dlq replay never re-sends a letter that is not a parley job', () => {
  it.each([
    ['SQS', async () => {
      const { queueUrl } = await freshQueues(client);
      return { env: { SQS_QUEUE_URL: queueUrl }, queue: sqsQueueFromConfig(loadConfig({ ...testEnv, SQS_QUEUE_URL: queueUrl }), { client, peekWaitSeconds: 0 })! as JobQueue<JobData> };
    }],
    ['Redis', async () => {
      const env = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `invalid-replay-${process.pid}-${Date.now()}` };
      return { env, queue: new BullQueue<JobData>({ url: env.REDIS_URL, prefix: env.REDIS_PREFIX, retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 1000 }, lockDurationMs: 30_000 }) as JobQueue<JobData> };
    }],
  ])('%s: replay <id> says it is not a parley job and keeps it; replay --all skips it, counting it', async (_name, make) => {
    const { env, queue } = await make();
    try {
      await queue.addDeadLetter(letter('bad1', 'garbage{', 'invalid_job'));
      const one = await parleyDlq(env, ['replay', 'bad1']);
      expect(one.out).toContain('not replayed: bad1 is not a parley job (invalid_job)');
      expect(one.out).not.toMatch(/replayed 1 of 1/);
      expect(one.code).toBe(1);
      expect((await queue.deadLetters()).map((l) => l.id)).toEqual(['bad1']);

      await queue.addDeadLetter(letter('good1', good, 'attempts_exhausted'));
      const all = await parleyDlq(env, ['replay'], true);
      expect(all.out).toContain('replayed 1 of 1; skipped 1 that is not a parley job');
      expect((await queue.deadLetters()).map((l) => l.id)).toEqual(['bad1']);
      await queue.purge();
    } finally {
      await queue.close(0);
    }
  }, 30_000);
});

describe('parley dlq drop removes one letter that is not a parley job, without purging the rest', () => {
  it.each([
    ['SQS', async () => {
      const { queueUrl } = await freshQueues(client);
      return { env: { SQS_QUEUE_URL: queueUrl }, queue: sqsQueueFromConfig(loadConfig({ ...testEnv, SQS_QUEUE_URL: queueUrl }), { client, peekWaitSeconds: 0 })! as JobQueue<JobData> };
    }],
    ['Redis', async () => {
      const env = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `invalid-drop-${process.pid}-${Date.now()}` };
      return { env, queue: new BullQueue<JobData>({ url: env.REDIS_URL, prefix: env.REDIS_PREFIX, retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 1000 }, lockDurationMs: 30_000 }) as JobQueue<JobData> };
    }],
  ])('%s: replay names drop; drop ID prints "dropped ID" (exit 0) and keeps the other; an unknown id exits 1, no id 2', async (_name, make) => {
    const { env, queue } = await make();
    try {
      await queue.addDeadLetter(letter('bad1', 'garbage{', 'invalid_job'));
      await queue.addDeadLetter(letter('good1', good, 'attempts_exhausted'));
      expect((await parleyDlq(env, ['replay', 'bad1'])).out).toContain('drop it with parley dlq drop bad1');

      const dropped = await parleyDlq(env, ['drop', 'bad1']);
      expect(dropped).toEqual({ code: 0, out: 'dropped bad1' });
      expect((await queue.deadLetters()).map((l) => l.id)).toEqual(['good1']);

      const again = await parleyDlq(env, ['drop', 'bad1']);
      expect(again).toEqual({ code: 1, out: 'no dead letter with id bad1; see parley dlq list' });
      const none = await parleyDlq(env, ['drop']);
      expect(none.code).toBe(2);
      expect(none.out).toContain('usage: parley dlq drop ID');
      expect((await queue.deadLetters()).map((l) => l.id)).toEqual(['good1']);
      await queue.purge();
    } finally {
      await queue.close(0);
    }
  }, 30_000);
});
