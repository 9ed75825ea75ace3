/**
 * The SQS queue on the moto server (never a mock): FIFO ids, per-group order, deferrals through
 * the visibility timeout, attempts counted in the store, dead letters in the redrive queue,
 * replay with a new deduplication id, drop, purge. Batches are driven as Lambda's event source would.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqsQueue, createSqsQueues, createStoreTable, DynamoStore, storeTableName } from '../../aws/index.js';
import { ATTEMPT_TIMEOUT_MS, requestHandler } from '../../aws/deadlines.js';
import { ConfigError, isReplayable, MemoryStore, PermanentError, RetryAfterError, replayEvery, type Job, type RetryOptions, type Store } from '../../src/index.js';
import { MAX_ERROR_TEXT } from '../../src/queue/backoff.js';
import { useMoto } from '../helpers/moto.js';
import { freshQueues, receive } from '../helpers/sqs.js';
import { startThrottlingProxy, type ThrottlingOptions } from '../helpers/throttling-proxy.js';
import { until } from '../helpers/until.js';

type Data = { n: number };
const moto = useMoto();
let client: SQSClient;
beforeAll(() => {
  client = new SQSClient({ endpoint: moto().url });
});

async function setup(retry: Partial<RetryOptions> = {}, store: Store = new MemoryStore(), queueClient = client) {
  const urls = await freshQueues(client);
  const queue = new SqsQueue<Data>({ queueUrl: urls.queueUrl, client: queueClient, retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 60_000, ...retry }, peekWaitSeconds: 0, waitTimeSeconds: 1 });
  const jobs: Job<Data>[] = [];
  /** One Lambda-style batch: receive what is visible, run it, delete what finished. */
  // What the bot's logger (given to process(), as the bot does; the queue itself has none) receives.
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const batch = async (handler: (job: Job<Data>) => Promise<void>, wait = false) => {
    const messages: Message[] = wait ? await until(() => receive(client, urls.queueUrl).then((m) => m.length > 0 && m), 'a visible message') : await receive(client, urls.queueUrl);
    queue.drivenByLambda();
    queue.process(async (job) => {
      jobs.push(job);
      await handler(job);
    }, { concurrency: 10, store, logger });
    const left = await queue.runBatch(messages.map((m) => ({ messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, groupId: m.Attributes?.MessageGroupId })));
    return { messages, left };
  };
  return { ...urls, queue, store, jobs, batch, lines };
}

const ok = async () => undefined;

const tableName = storeTableName('parley-sqs-queue');
let tableMade: Promise<unknown> | undefined;
let namespaces = 0;
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A DynamoStore whose DeleteItem calls go through a proxy in front of moto that throttles as asked; `item` reads moto directly. */
async function throttledStore(options: ThrottlingOptions) {
  tableMade ??= (async () => {
    const made = new DynamoDBClient({});
    await createStoreTable(made, tableName);
    made.destroy();
  })();
  await tableMade;
  const proxy = await startThrottlingProxy(moto().url, options);
  const namespace = `q${++namespaces}:`;
  const dynamo = new DynamoDBClient({ endpoint: proxy.url, requestHandler: requestHandler(ATTEMPT_TIMEOUT_MS) });
  const direct = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  cleanups.push(() => proxy.close(), () => dynamo.destroy(), () => direct.destroy());
  const item = async (key: string) => (await direct.send(new GetCommand({ TableName: tableName, Key: { key: namespace + key } }))).Item;
  return { store: new DynamoStore({ tableName, namespace, client: dynamo }), proxy, item };
}

const isDelete = (target: string) => target === 'DynamoDB_20120810.DeleteItem';

/** Where a test's clean-ups go: afterEach's list, or (a test run beside others) its own onTestFinished. */
type CleanUp = (cleanup: () => Promise<void> | void) => void;
const afterThisTest: CleanUp = (cleanup) => void cleanups.push(cleanup);

/** An SQS client whose first SendMessage to a dead-letter queue fails with SQS's 500 on every one of the SDK's attempts. */
async function deadLetterSendsFail(cleanUp: CleanUp = afterThisTest): Promise<SQSClient> {
  let refused = 0;
  const failing = { status: 500, body: JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'We encountered an internal error. Please try again.' }) };
  const proxy = await startThrottlingProxy(moto().url, { throttles: (target, body) => target === 'AmazonSQS.SendMessage' && body.includes('-dlq.fifo') && refused++ < 3, answer: failing });
  // The SDK would send each call to its QueueUrl's host (moto) rather than to the proxy.
  const proxied = new SQSClient({ endpoint: proxy.url, useQueueUrlAsEndpoint: false });
  cleanUp(() => proxied.destroy());
  cleanUp(() => proxy.close());
  return proxied;
}

describe('SqsQueue on SQS (moto)', () => {
  it('sends a job with MessageGroupId = its group and MessageDeduplicationId = its id', async () => {
    const { queue, queueUrl } = await setup();
    expect(await queue.add({ id: 'slack.Ev1', group: 'slack.C1', data: { n: 1 } })).toBe(true);
    const [message] = await receive(client, queueUrl);
    expect(message?.Attributes).toMatchObject({ MessageGroupId: 'slack.C1', MessageDeduplicationId: 'slack.Ev1' });
    expect(JSON.parse(message!.Body!)).toEqual({ id: 'slack.Ev1', group: 'slack.C1', data: { n: 1 }, delivery: 'slack.Ev1' });
  });

  it('drops a repeated id within the deduplication window', async () => {
    const { queue, queueUrl } = await setup();
    await queue.add({ id: 'same', group: 'g', data: { n: 1 } });
    await queue.add({ id: 'same', group: 'g', data: { n: 2 } });
    expect((await receive(client, queueUrl)).map((m) => JSON.parse(m.Body!).data.n)).toEqual([1]);
  });

  it('polling: answers every job, each group in order, a failed one before the next of its group', async () => {
    const { queueUrl } = await freshQueues(client);
    const queue = new SqsQueue<Data>({ queueUrl, client, retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 1000 }, waitTimeSeconds: 1, visibilityTimeoutSeconds: 30 });
    for (const [id, group, n] of [['a1', 'A', 1], ['a2', 'A', 2], ['b1', 'B', 1], ['a3', 'A', 3]] as const) await queue.add({ id, group, data: { n } });
    const seen: string[] = [];
    queue.process(async (job) => {
      seen.push(`${job.id}#${job.attempt}`);
      if (job.id === 'a1' && job.attempt === 1) throw new Error('flaky');
    }, { concurrency: 4, store: new MemoryStore() });
    await until(() => seen.includes('a3#1') && seen.includes('b1#1'), 'every job answered', 15_000);
    expect(seen.filter((s) => s.startsWith('a'))).toEqual(['a1#1', 'a1#2', 'a2#1', 'a3#1']);
    await queue.close(5000);
    expect((await queue.counts()).waiting).toBe(0);
  });

  it('polling: a message answered whose delete is lost comes back marked redelivered (so the AI is not asked again)', async () => {
    const { queueUrl } = await freshQueues(client);
    let losing = true;
    const proxy = await startThrottlingProxy(moto().url, { throttles: (target) => losing && target === 'AmazonSQS.DeleteMessage' });
    const proxied = new SQSClient({ endpoint: proxy.url, maxAttempts: 1 });
    cleanups.push(() => proxy.close(), () => proxied.destroy());
    const queue = new SqsQueue<Data>({ queueUrl, client: proxied, retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 1000 }, waitTimeSeconds: 1, visibilityTimeoutSeconds: 1 });
    await queue.add({ id: 'answered', group: 'A', data: { n: 1 } });
    const runs: string[] = [];
    queue.process(async (job) => void runs.push(`${job.id}#${job.attempt}:${job.redelivered === true}`), { concurrency: 1, store: new MemoryStore(), logger: pino({ level: 'silent' }) });
    await until(() => runs.length === 1 && proxy.refused > 0, 'the first run, its delete refused', 10_000);
    losing = false;
    await until(() => runs.length === 2, 'the message received again', 15_000);
    await queue.close(5000);
    expect(runs).toEqual(['answered#1:false', 'answered#1:true']);
  });

  it('polling: a message whose hold ran out while it waited behind its conversation is not started (another worker may have it): run once, held, when received again', async () => {
    const { queueUrl } = await freshQueues(client);
    // SQS's 500 for every visibility change: the holds on the batch's messages run out.
    const failing = { status: 500, body: JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'We encountered an internal error. Please try again.' }) };
    const proxy = await startThrottlingProxy(moto().url, { throttles: (target) => target === 'AmazonSQS.ChangeMessageVisibility', answer: failing });
    const proxied = new SQSClient({ endpoint: proxy.url, maxAttempts: 1 });
    cleanups.push(() => proxy.close(), () => proxied.destroy());
    const queue = new SqsQueue<Data>({ queueUrl, client: proxied, retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 1000 }, waitTimeSeconds: 1, visibilityTimeoutSeconds: 2 });
    // One batch: a job longer than the visibility timeout, and one behind it in its conversation.
    for (const id of ['slow', 'behind']) await queue.add({ id, group: 'B', data: { n: 1 } });
    const runs: string[] = [];
    const lines: string[] = [];
    queue.process(async (job) => {
      runs.push(`${job.id}:${job.stillHeld?.() === true ? 'held' : 'lost'}`);
      if (job.id === 'slow') await new Promise((resolve) => setTimeout(resolve, 3000));
    }, { concurrency: 10, store: new MemoryStore(), logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) });
    await until(() => runs.some((run) => run.startsWith('behind')), 'the job behind the slow one run', 20_000);
    await queue.close(5000);
    expect(runs).toEqual(['slow:held', 'behind:held']);
    expect(lines.join('\n')).toContain("this worker's hold on the SQS message ran out");
  });

  it('polling: a message answered while its batch still runs, and one waiting behind its conversation, are never taken again by another worker', async () => {
    const { queueUrl } = await freshQueues(client);
    const options = { queueUrl, client, retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 1000 }, waitTimeSeconds: 1, visibilityTimeoutSeconds: 2 };
    const [one, two] = [new SqsQueue<Data>(options), new SqsQueue<Data>(options)];
    // One batch: a quick message, a slow one (longer than the visibility timeout), and one behind the slow one.
    for (const [id, group] of [['quick', 'A'], ['slow', 'B'], ['behind', 'B']] as const) await one.add({ id, group, data: { n: 1 } });
    const runs: string[] = [];
    const handler = async (job: Job<Data>) => {
      runs.push(job.id);
      if (job.id === 'slow') await new Promise((resolve) => setTimeout(resolve, 5000));
    };
    one.process(handler, { concurrency: 10, store: new MemoryStore() });
    await until(() => runs.includes('slow'), 'the slow job started', 10_000);
    // A second worker polls meanwhile, past the visibility timeout of the batch's messages.
    two.process(handler, { concurrency: 10, store: new MemoryStore() });
    await until(() => runs.includes('behind'), 'every job answered', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await Promise.all([one.close(5000), two.close(5000)]);
    expect(runs.sort()).toEqual(['behind', 'quick', 'slow']);
    expect((await one.counts()).waiting).toBe(0);
  });

  it('an answered message is done though DynamoDB throttles the clean-up of its attempts count: a warning, not a redelivery', async () => {
    const { store, proxy, item } = await throttledStore({ throttles: isDelete });
    const { batch, queue, jobs, lines } = await setup({}, store);
    await queue.add({ id: 'answered', group: 'g', data: { n: 1 } });
    const { messages, left } = await batch(ok);
    expect(messages).toHaveLength(1);
    expect(left).toEqual([]); // not handed back: it would be answered again
    expect(jobs).toHaveLength(1);
    expect(proxy.refused).toBeGreaterThan(0);
    const warning = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => String(line.msg).includes('attempts count could not be deleted'));
    expect(warning).toMatchObject({ level: 40, message: messages[0]!.MessageId, key: 'parley:sqs-attempts:answered', err: { message: expect.stringMatching(/throughput/) } });
    // What is left is the count, '1', and its TTL ends it within SQS's 14-day retention.
    const left_ = await item('parley:sqs-attempts:answered');
    expect(left_).toMatchObject({ value: '1' });
    expect(Number(left_!.expires_at_ms)).toBeLessThanOrEqual(Date.now() + 14 * 24 * 60 * 60 * 1000);
  });

  it("the worker's clean-up waits out a throttled attempt that the ingress's 0.8 s deadline would cut off; the ingress's delete keeps it", async () => {
    const throttledOnce = new Set<string>();
    // The first DeleteItem of each key is refused, the refusal arriving after 1 s.
    const { store, item } = await throttledStore({ throttles: (target, body) => isDelete(target) && !throttledOnce.has(body) && Boolean(throttledOnce.add(body)), answerAfterMs: 1000 });
    await store.set('claim', '1');
    await expect(store.delete('claim')).rejects.toThrow(/aborted|no answer within 800 ms/);
    const { batch, queue, lines } = await setup({}, store);
    await queue.add({ id: 'patient', group: 'g', data: { n: 1 } });
    expect((await batch(ok)).left).toEqual([]);
    expect(await item('parley:sqs-attempts:patient')).toBeUndefined();
    expect(lines.join('\n')).not.toContain('attempts count could not be deleted');
  });

  it('dead-letters a poison message whose dead letter would pass SQS\'s 1 MiB once, cut to fit, with its reason, id and the start of its body', async () => {
    const { batch, queueUrl, deadLetterQueueUrl, queue } = await setup();
    const bodies = { quotes: '"'.repeat(600_000), xs: 'x'.repeat(1_048_500), emoji: '\u{1F600}'.repeat(262_100) };
    for (const [name, body] of Object.entries(bodies)) await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageGroupId: name, MessageDeduplicationId: name }));
    const { messages, left } = await batch(ok);
    expect(messages).toHaveLength(3);
    expect(left).toEqual([]);
    const letters = await queue.deadLetters();
    expect(letters).toHaveLength(3);
    for (const message of messages) {
      const letter = letters.find((l) => l.id === message.MessageId)!;
      expect(letter).toMatchObject({ reason: 'invalid_job', truncated: true, error: expect.stringContaining('not a parley job') });
      const data = letter.data as unknown as string;
      expect(message.Body!.startsWith(data)).toBe(true);
      expect(Buffer.byteLength(data)).toBeGreaterThan(500_000);
    }
    for (const sent of await receive(client, deadLetterQueueUrl)) expect(Buffer.byteLength(sent.Body!)).toBeLessThanOrEqual(1_048_576);
    expect(await receive(client, queueUrl)).toEqual([]);
  });

  it('a redrive queue made with a smaller MaximumMessageSize (256 KiB) gets a letter cut to the size it names', async () => {
    const name = `parley-small-dlq-${process.pid}-${Date.now()}.fifo`;
    const deadLetterQueueUrl = (await client.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', MaximumMessageSize: '262144' } }))).QueueUrl!;
    const queue = new SqsQueue<Data>({ queueUrl: (await freshQueues(client)).queueUrl, deadLetterQueueUrl, client, retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 60_000 }, peekWaitSeconds: 0 });
    // A message that fit the job queue, whose letter JSON-escapes it to about 400 KB.
    await queue.addDeadLetter({ id: 'quotes', group: 'g', data: { n: '"'.repeat(200_000) } as unknown as Data, error: 'boom', reason: 'attempts_exhausted', attempts: 3, failedAt: new Date().toISOString() });
    const [sent] = await receive(client, deadLetterQueueUrl);
    expect(Buffer.byteLength(sent!.Body!)).toBeLessThan(262_144);
    expect(JSON.parse(sent!.Body!)).toMatchObject({ id: 'quotes', reason: 'attempts_exhausted', truncated: true });
  });

  it('refuses to replay a dead letter cut to fit: it stays, and nothing is queued', async () => {
    const { batch, queueUrl, queue } = await setup();
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(1_048_500), MessageGroupId: 'g', MessageDeduplicationId: 'huge' }));
    await batch(ok);
    const [letter] = await queue.deadLetters();
    expect(isReplayable(letter!)).toBe(false);
    await expect(queue.replay(letter!.id)).rejects.toThrow(/cut to fit SQS's 1 MiB.*cannot be replayed/);
    expect(await replayEvery(queue)).toBe(0);
    expect((await queue.deadLetters()).map((l) => l.id)).toEqual([letter!.id]);
    expect(await receive(client, queueUrl)).toEqual([]);
  });

  it('a deferral hides the message for the wait and spends no attempt', async () => {
    const { batch, store, jobs, queue } = await setup();
    await queue.add({ id: 'wait', group: 'g', data: { n: 1 } });
    const first = await batch(async () => {
      throw new RetryAfterError('rate limited', 1500);
    });
    expect(first.left).toEqual([first.messages[0]!.MessageId]);
    expect(await store.get('parley:sqs-attempts:wait')).toBeUndefined();
    expect((await batch(ok)).messages).toHaveLength(0); // hidden, not gone
    await batch(ok, true);
    expect(jobs.map((j) => j.attempt)).toEqual([1, 1]);
  });

  it('holds back the later messages of a group behind one that is deferred', async () => {
    const { batch, queue, jobs } = await setup();
    await queue.add({ id: 'x1', group: 'g', data: { n: 1 } });
    await queue.add({ id: 'x2', group: 'g', data: { n: 2 } });
    const first = await batch(async () => {
      throw new RetryAfterError('later', 1000);
    });
    expect(first.messages).toHaveLength(2);
    expect(first.left).toHaveLength(2);
    expect(jobs.map((j) => j.id)).toEqual(['x1']);
    await batch(ok, true);
    expect(jobs.map((j) => j.id)).toEqual(['x1', 'x1', 'x2']);
  });

  it('counts attempts in the store and dead-letters the message when they run out', async () => {
    const { batch, queue, store, deadLetterQueueUrl } = await setup({ attempts: 2 });
    await queue.add({ id: 'bad', group: 'g', data: { n: 1 } });
    const fail = async () => {
      throw new Error('AI down');
    };
    await batch(fail);
    expect(await store.get('parley:sqs-attempts:bad')).toBe('1');
    const second = await batch(fail, true);
    expect(second.left).toEqual([]);
    expect(await store.get('parley:sqs-attempts:bad')).toBeUndefined();
    expect(await queue.deadLetters()).toMatchObject([{ id: 'bad', group: 'g', data: { n: 1 }, reason: 'attempts_exhausted', attempts: 2, error: 'Error: AI down' }]);
    expect(await receive(client, deadLetterQueueUrl)).toHaveLength(1);
    expect(await queue.counts()).toMatchObject({ waiting: 0, dead: 1 });
  });

  it('dead-letters a permanent failure at once, with its reason', async () => {
    const { batch, queue } = await setup();
    await queue.add({ id: 'perm', group: 'g', data: { n: 1 } });
    await batch(async () => {
      throw new PermanentError('channel archived', 'not_in_channel');
    });
    expect(await queue.deadLetters()).toMatchObject([{ id: 'perm', reason: 'not_in_channel', attempts: 1 }]);
  });

  it("keeps a failure's text to a bound: a 2 MB error page neither fills the dead letter nor leaves it cut to fit (and unreplayable)", async () => {
    const { batch, queue, deadLetterQueueUrl } = await setup();
    await queue.add({ id: 'page', group: 'g', data: { n: 1 } });
    await batch(async () => {
      throw new PermanentError(`Intercom answered 502: <html>${'x'.repeat(2_000_000)}</html>`, 'refused');
    });
    const [letter] = await queue.deadLetters();
    expect(letter).toMatchObject({ id: 'page', reason: 'refused', data: { n: 1 } });
    expect(letter!.truncated).toBeUndefined();
    expect(letter!.error.length).toBeLessThanOrEqual(MAX_ERROR_TEXT + 60);
    expect(letter!.error).toMatch(/^PermanentError: Intercom answered 502: <html>x+… \(\d+ more characters left out\)$/);
    const sent = await receive(client, deadLetterQueueUrl);
    expect(sent).toHaveLength(1);
    expect(Buffer.byteLength(sent[0]!.Body!)).toBeLessThan(10_000);
  });

  // Three tests that mostly wait (about 5 s each) for a message handed back: side by side, each with
  // its own queues (and proxy), cleaned up when it finishes.
  it.concurrent('a message whose attempt could not be recorded (the store failing) comes back in seconds, not after the visibility timeout', async (test) => {
    const { expect } = test;
    const { batch, queue, store, queueUrl, jobs, lines } = await setup();
    await queue.add({ id: 'blip', group: 'g', data: { n: 1 } });
    const realSet = store.set.bind(store);
    store.set = async () => Promise.reject(new Error('store throttled'));
    const first = await batch(ok);
    expect(first.left).toEqual([first.messages[0]!.MessageId]);
    expect(jobs).toHaveLength(0);
    // Lambda logs nothing of a batch item failure: the bot's log says why it comes back.
    expect(lines.join('\n')).toContain('SQS message left for redelivery: the queue could not record its outcome');
    store.set = realSet;
    // The queue's visibility timeout is 30 s here: back within 10 s means it was handed back early.
    const again = await until(() => receive(client, queueUrl).then((m) => m.length > 0 && m), 'the message back', 10_000);
    expect(again).toHaveLength(1);
  });

  it.concurrent('a permanent failure whose move to the dead letters fails (SQS 500s) is moved on its next delivery, not run again', async (test) => {
    const { expect } = test;
    const { queue, batch, jobs, lines } = await setup({ attempts: 3 }, new MemoryStore(), await deadLetterSendsFail(test.onTestFinished));
    await queue.add({ id: 'perm-unmoved', group: 'g', data: { n: 1 } });
    const first = await batch(async () => {
      throw new PermanentError('channel archived', 'not_in_channel');
    });
    expect(first.left).toEqual([first.messages[0]!.MessageId]);
    expect(lines.join('\n')).toContain('SQS message left for redelivery');
    // Handed back in 5 s: moved now, with the handler's reason, and the handler not run again.
    const second = await batch(async () => undefined, true);
    expect(second.left).toEqual([]);
    expect(jobs).toHaveLength(1);
    expect(await queue.deadLetters()).toMatchObject([{ id: 'perm-unmoved', reason: 'not_in_channel', attempts: 1, error: expect.stringContaining('channel archived') }]);
  });

  it.concurrent("a last failed attempt whose move to the dead letters fails keeps its error: the next delivery moves it, not as a stalled worker's", async (test) => {
    const { expect } = test;
    const { queue, batch, jobs, store, queueUrl } = await setup({ attempts: 1 }, new MemoryStore(), await deadLetterSendsFail(test.onTestFinished));
    await queue.add({ id: 'spent-unmoved', group: 'g', data: { n: 1 } });
    const abandoned: string[] = [];
    const fail = async () => {
      throw new Error('AI down');
    };
    expect((await batch(fail)).left).toHaveLength(1);
    // batch() registers the handler each time: the bot's onAbandoned (its apology, its stalled count) with it.
    queue.process(async (job) => void jobs.push(job), { concurrency: 10, store, onAbandoned: async (_job, reason) => void abandoned.push(reason) });
    const messages = await until(() => receive(client, queueUrl).then((m) => m.length > 0 && m), 'the message back');
    expect(await queue.runBatch(messages.map((m) => ({ messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, groupId: m.Attributes?.MessageGroupId })))).toEqual([]);
    expect(jobs).toHaveLength(1);
    expect(abandoned).toEqual([]);
    expect(await queue.deadLetters()).toMatchObject([{ id: 'spent-unmoved', reason: 'attempts_exhausted', attempts: 1, error: 'Error: AI down' }]);
    expect(await store.get('parley:sqs-attempts:spent-unmoved')).toBeUndefined();
  });

  it('a dead letter sent whose delete and hiding both failed is not sent again when its message comes back (past the 5-minute dedupe): only deleted', async () => {
    let failing = true;
    let letterSends = 0;
    const internalError = { status: 500, body: JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'We encountered an internal error. Please try again.' }) };
    const throttles = (target: string, body: string) => {
      if (target === 'AmazonSQS.SendMessage' && body.includes('-dlq.fifo')) letterSends++;
      return failing && (target === 'AmazonSQS.DeleteMessage' || target === 'AmazonSQS.ChangeMessageVisibility');
    };
    const proxy = await startThrottlingProxy(moto().url, { throttles, answer: internalError });
    const proxied = new SQSClient({ endpoint: proxy.url, useQueueUrlAsEndpoint: false, maxAttempts: 1 });
    cleanups.push(() => proxy.close(), () => proxied.destroy());
    const { queue, batch, jobs, queueUrl } = await setup({ attempts: 3 }, new MemoryStore(), proxied);
    await queue.add({ id: 'sent-undeleted', group: 'g', data: { n: 1 } });
    const first = await batch(async () => {
      throw new PermanentError('channel archived', 'not_in_channel');
    });
    expect(first.left).toEqual([first.messages[0]!.MessageId]);
    expect(letterSends).toBe(1);
    // Back after the queue's visibility timeout, which may be past SQS's dedupe window (made visible here at once).
    failing = false;
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: first.messages[0]!.ReceiptHandle!, VisibilityTimeout: 0 }));
    const second = await batch(async () => undefined, true);
    expect(second.left).toEqual([]);
    expect(jobs).toHaveLength(1);
    expect(letterSends).toBe(1);
    expect(await queue.deadLetters()).toMatchObject([{ id: 'sent-undeleted', reason: 'not_in_channel', error: expect.stringContaining('channel archived') }]);
    expect(await receive(client, queueUrl)).toEqual([]);
  });

  it('a body that is no parley envelope is told to onDeadLettered (the bot counts it) once it is moved, once though its first delete failed', async () => {
    let failing = true;
    const internalError = { status: 500, body: JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'We encountered an internal error. Please try again.' }) };
    const proxy = await startThrottlingProxy(moto().url, { throttles: (target) => failing && (target === 'AmazonSQS.DeleteMessage' || target === 'AmazonSQS.ChangeMessageVisibility'), answer: internalError });
    const proxied = new SQSClient({ endpoint: proxy.url, useQueueUrlAsEndpoint: false, maxAttempts: 1 });
    cleanups.push(() => proxy.close(), () => proxied.destroy());
    const { queueUrl } = await freshQueues(client);
    const queue = new SqsQueue<Data>({ queueUrl, client: proxied, retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 1000 }, peekWaitSeconds: 0 });
    const told: [unknown, string][] = [];
    queue.drivenByLambda();
    queue.process(async () => undefined, { concurrency: 10, store: new MemoryStore(), logger: pino({ level: 'silent' }), onDeadLettered: (data, reason) => void told.push([data, reason]) });
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'not a job', MessageGroupId: 'g', MessageDeduplicationId: 'by-hand' }));
    const run = (messages: Message[]) => queue.runBatch(messages.map((m) => ({ messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, groupId: m.Attributes?.MessageGroupId })));
    const [first] = await receive(client, queueUrl);
    expect(await run([first!])).toEqual([first!.MessageId]);
    expect(told).toEqual([]); // its letter sent, the message still in the queue
    failing = false;
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: first!.ReceiptHandle!, VisibilityTimeout: 0 }));
    expect(await run(await until(() => receive(client, queueUrl).then((m) => m.length > 0 && m), 'the message back'))).toEqual([]);
    expect(told).toEqual([['not a job', 'invalid_job']]);
    expect(await queue.deadLetters()).toMatchObject([{ reason: 'invalid_job' }]);
  });

  it('dead-letters a message whose worker died during its last attempt instead of running it again, and tells the bot (its apology)', async () => {
    const urls = await freshQueues(client, 1);
    const queue = new SqsQueue<Data>({ queueUrl: urls.queueUrl, client, retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1000 }, peekWaitSeconds: 0 });
    const store = new MemoryStore();
    await queue.add({ id: 'kills', group: 'g', data: { n: 1 } });
    let runs = 0;
    const abandoned: [string, number, string][] = [];
    queue.drivenByLambda();
    queue.process(
      async () => {
        runs++;
        await new Promise(() => undefined); // the worker never comes back: a Lambda timeout
      },
      { concurrency: 1, store, onAbandoned: async (job, reason) => void abandoned.push([job.id, job.data.n, reason]) },
    );
    const toRecord = (m: Message) => ({ messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, groupId: m.Attributes?.MessageGroupId });
    void queue.runBatch((await receive(client, urls.queueUrl)).map(toRecord));
    await until(() => runs === 1, 'the first run');
    const again = await until(() => receive(client, urls.queueUrl).then((m) => m.length > 0 && m), 'the message back after its visibility timeout');
    expect(await queue.runBatch(again.map(toRecord))).toEqual([]);
    expect(runs).toBe(1);
    expect(await queue.deadLetters()).toMatchObject([{ id: 'kills', reason: 'attempts_exhausted', attempts: 1 }]);
    expect(abandoned).toEqual([['kills', 1, 'stalled']]);
  });

  it('lists a job SQS redrove itself with the attempts the workers counted, the same on every look', async () => {
    const urls = await createSqsQueues(client, { name: `parley-test-${process.pid}-redriven`, visibilityTimeoutSeconds: 30, maxReceiveCount: 2 });
    const retry = { attempts: 5, backoffMs: 1, maxBackoffMs: 1000 };
    const queue = new SqsQueue<Data>({ queueUrl: urls.queueUrl, client, retry, peekWaitSeconds: 0 });
    const store = new MemoryStore();
    queue.drivenByLambda();
    queue.process(
      async () => {
        throw new Error('AI down');
      },
      { concurrency: 1, store },
    );
    await queue.add({ id: 'redriven', group: 'g', data: { n: 1 } });
    const toRecord = (m: Message) => ({ messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, body: m.Body!, groupId: m.Attributes?.MessageGroupId });
    for (let run = 0; run < 2; run++) await queue.runBatch((await until(() => receive(client, urls.queueUrl).then((m) => m.length > 0 && m), 'the message back')).map(toRecord));
    expect(await store.get('parley:sqs-attempts:redriven')).toBe('2');
    // Its next receive is past maxReceiveCount: SQS moves it to the dead-letter queue.
    await until(async () => (await receive(client, urls.queueUrl)).length === 0 && (await queue.counts()).dead === 1, 'the message redriven');

    const first = await queue.deadLetters();
    expect(first).toMatchObject([{ id: 'redriven', reason: 'redriven', attempts: 2 }]);
    // A listing receives the dead letters: it must not change what it shows.
    expect(await queue.deadLetters()).toEqual(first);
    // Where the workers' count is not at hand (parley dlq without the store): no attempts, rather than SQS's receive count.
    const elsewhere = new SqsQueue<Data>({ queueUrl: urls.queueUrl, client, retry, peekWaitSeconds: 0 });
    expect((await elsewhere.deadLetters())[0]).not.toHaveProperty('attempts');
    const withStore = new SqsQueue<Data>({ queueUrl: urls.queueUrl, client, retry, peekWaitSeconds: 0, attemptsStore: store });
    expect(await withStore.deadLetters()).toEqual(first);
  });

  it('replays every dead letter from one listing of the redrive queue, oldest first', async () => {
    const urls = await freshQueues(client);
    let receives = 0;
    const counting = new SQSClient({ endpoint: moto().url });
    const send = counting.send.bind(counting);
    counting.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) => {
      if (command.constructor.name === 'ReceiveMessageCommand') receives++;
      return (send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as typeof counting.send;
    const queue = new SqsQueue<Data>({ queueUrl: urls.queueUrl, client: counting, retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1000 }, peekWaitSeconds: 0 });
    const start = Date.parse('2026-12-01T10:00:00Z');
    for (let n = 12; n >= 1; n--) {
      await queue.addDeadLetter({ id: `d${n}`, group: 'g', data: { n }, error: 'boom', reason: 'attempts_exhausted', attempts: 1, failedAt: new Date(start + n * 1000).toISOString() });
    }
    receives = 0;
    expect(await replayEvery(queue)).toBe(12);
    expect(receives).toBeLessThanOrEqual(3); // two pages and the empty answer, not a listing per letter
    expect(await queue.deadLetters()).toEqual([]);
    const replayed: number[] = [];
    for (let got = await receive(client, urls.queueUrl); got.length > 0; got = await receive(client, urls.queueUrl)) {
      for (const message of got) {
        replayed.push((JSON.parse(message.Body!) as { data: Data }).data.n);
        await client.send(new DeleteMessageCommand({ QueueUrl: urls.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      }
    }
    expect(replayed).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    counting.destroy();
  });

  it('replays a dead letter with a new deduplication id and fresh attempts', async () => {
    const { batch, queue, queueUrl, jobs } = await setup({ attempts: 1 });
    await queue.add({ id: 'again', group: 'g', data: { n: 7 } });
    await batch(async () => {
      throw new Error('boom');
    });
    expect(await queue.replay('missing')).toBe(false);
    expect(await queue.replay('again')).toBe(true);
    expect(await queue.deadLetters()).toEqual([]);
    const [message] = await receive(client, queueUrl);
    expect(message?.Attributes?.MessageDeduplicationId).toMatch(/^again\.replay-/);
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message!.ReceiptHandle!, VisibilityTimeout: 0 }));
    const { left } = await batch(ok, true);
    expect(left).toEqual([]);
    expect(jobs.map((j) => [j.id, j.attempt, j.data.n])).toEqual([
      ['again', 1, 7],
      ['again', 1, 7],
    ]);
  });

  it('lists, shows and purges dead letters written outside a worker (direct mode)', async () => {
    const { queue } = await setup();
    const failedAt = new Date().toISOString();
    await queue.addDeadLetter({ id: 'd1', group: 'g', data: { n: 1 }, error: 'Error: x', reason: 'no_adapter', attempts: 1, failedAt });
    await queue.addDeadLetter({ id: 'd2', group: 'g', data: { n: 2 }, error: 'Error: y', reason: 'attempts_exhausted', attempts: 3, failedAt });
    expect((await queue.deadLetters()).map((l) => l.id).sort()).toEqual(['d1', 'd2']);
    expect((await queue.deadLetters()).map((l) => l.id).sort()).toEqual(['d1', 'd2']); // listing gives them back
    expect(await queue.purge()).toBe(2);
    expect(await queue.deadLetters()).toEqual([]);
  });

  it('drops one dead letter without replaying it and gives the others back at once; an unknown id is false', async () => {
    const { queue, queueUrl } = await setup();
    const failedAt = new Date().toISOString();
    for (const id of ['d1', 'd2']) await queue.addDeadLetter({ id, group: 'g', data: { n: 1 }, error: 'Error: x', reason: 'invalid_job', attempts: 1, failedAt });
    expect(await queue.dropDeadLetter('d1')).toBe(true);
    // The other letter, received while looking for d1, is listed again at once (not after the 30 s peek).
    expect((await queue.deadLetters()).map((l) => l.id)).toEqual(['d2']);
    expect(await queue.dropDeadLetter('d1')).toBe(false);
    expect(await queue.dropDeadLetter('missing')).toBe(false);
    expect((await queue.deadLetters()).map((l) => l.id)).toEqual(['d2']);
    expect(await receive(client, queueUrl)).toEqual([]); // nothing was sent back to the job queue
  });

  it('forgets the dead letters of a deleted conversation and gives the others back', async () => {
    const { queue } = await setup();
    const failedAt = new Date().toISOString();
    for (const id of ['web.gone-1', 'web.gone-2', 'web.kept']) await queue.addDeadLetter({ id, group: 'g', data: { n: 1 }, error: 'Error: x', reason: 'ai_client', attempts: 1, failedAt });
    expect(await queue.forget(['web.gone-1', 'web.gone-2', 'web.never-failed'])).toEqual({ removed: 2, unfinished: 0 });
    expect((await queue.deadLetters()).map((l) => l.id)).toEqual(['web.kept']);
  });

  it('says how to fix a queue without a redrive policy', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: `no-dlq-${process.pid}.fifo`, Attributes: { FifoQueue: 'true' } }));
    const queue = new SqsQueue<Data>({ queueUrl: QueueUrl!, client, retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 } });
    const error = await queue.deadLetters().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/no redrive policy.*parley aws setup/);
  });
});

