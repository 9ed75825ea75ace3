/**
 * A message BullMQ gives up as stalled may still be answered by a worker that only lost Redis for
 * longer than QUEUE_LOCK_MS. Whether it was lost is known only when its delayed apology runs: then,
 * and only if it is still unanswered, it counts as a dead letter (parley_dead_lettered_total, which
 * the console's minutes and the dead-letter alert read) and goes into the conversation log as
 * apologised; answered by then, it is not counted, not logged apologised, and its dead letter goes.
 * Real Redis and BullMQ: the job is given up by BullMQ's own stalled-job failure (its `defa` field,
 * as BullMQ's stalled check leaves it), so the worker's `failed` event reports it.
 */
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { Adapter } from '../../src/adapter.js';
import { ConversationHistory } from '../../src/ai/history.js';
import type { AiClient } from '../../src/ai/index.js';
import { abandonJob, noticesOn } from '../../src/apology.js';
import { RedisConversationLog } from '../../src/conversation-log-redis.js';
import { forgetter } from '../../src/forget.js';
import type { MessageHandler } from '../../src/handler.js';
import { conversationGroup, messageData, messageJobId, type JobData } from '../../src/jobs.js';
import type { InboundMessage } from '../../src/message.js';
import { createMetrics } from '../../src/observe/index.js';
import { BullQueue } from '../../src/queue/index.js';
import { RedisStore } from '../../src/store/index.js';
import { processJob, type WorkerDeps } from '../../src/worker.js';
import { FakeAdapter, conversation, inbound, silentLogger } from '../unit/helpers.js';
import { REDIS_URL, uniquePrefix, useRedis, waitFor } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);
/** Long: each test promotes the apology when it means it to run, so nothing hangs on timing. */
const DELAY_MS = 10 * 60_000;
const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => void (await Promise.all(closing.splice(0).map((close) => close()))));

const noAi: AiClient = { circuit: 'closed', reply: async () => Promise.reject(new Error('no AI call expected')) };
/** The surviving run's handler: answers, and logs the exchange as answerWithAi does. */
const answers: MessageHandler = async (message, context) => {
  const output = await context.reply('the answer');
  await context.recordExchange?.({ input: message.text, output });
};

/** What the person saw: each reply's text, an apology as 'apology'. */
const shown = (adapter: FakeAdapter) => adapter.sent.map((s) => (s.reply.kind === 'apology' ? 'apology' : s.reply.text));

async function world(name: string) {
  const queuePrefix = `${prefix}-${name}`;
  const queue = new BullQueue<JobData>({ url: REDIS_URL, prefix: queuePrefix, retry: { attempts: 3, backoffMs: 20, maxBackoffMs: 200 }, lockDurationMs: 2000, turnPollMs: 50 });
  const connection = await redis.connection();
  const store = new RedisStore(connection, `${queuePrefix}-store`);
  const adapter = new FakeAdapter();
  const log = new RedisConversationLog(connection, { prefix: `${queuePrefix}-log` });
  const deps: WorkerDeps = {
    settings: { vision: false, mediaNotice: 'text only', handoffReply: 'handing over' },
    store,
    ai: noAi,
    conversationLog: log,
    history: new ConversationHistory(store, { turns: 20, tokenBudget: 3000, ttlSeconds: 3600 }),
    metrics: createMetrics(),
    logger: silentLogger,
    adapterFor: (platform) => (platform === adapter.platform ? (adapter as Adapter) : undefined),
    handler: () => answers,
    ...noticesOn(queue, 90_000),
    stalledApologyDelayMs: DELAY_MS,
  };
  const abandoned: string[] = [];
  queue.process((job) => processJob(deps, job), { concurrency: 2, store, onAbandoned: async (job, reason) => (await abandonJob(deps, job, reason), void abandoned.push(job.id)) });
  const jobs = new Queue('messages', { connection: await redis.connection(), prefix: queuePrefix });
  closing.push(() => queue.close(1000), () => jobs.close());

  /** `message`'s job, given up by BullMQ as stalled (its lock lapsed twice) while a worker may still run it. */
  const stall = async (message: InboundMessage) => {
    const id = messageJobId(message);
    // Queued delayed, marked as BullMQ's stalled check marks a job stalled too often, then let go.
    const job = await jobs.add('message', { group: conversationGroup(message.conversation), data: messageData(message, undefined) }, { jobId: id, attempts: 3, removeOnFail: false, delay: 60_000 });
    await redis.admin().hset(`${queuePrefix}:messages:${id}`, 'defa', 'job stalled more than allowable limit');
    await job.promote();
    await waitFor(() => abandoned.includes(id), 5000, 'BullMQ to give the job up');
    return { id, group: conversationGroup(message.conversation), data: messageData(message, undefined), attempt: 1, maxAttempts: 3 };
  };
  /** Runs the apology of message job `id` now (BullMQ holds it delayed), and waits for it to finish. */
  const apologyRuns = async (id: string) => {
    await waitFor(async () => (await (await jobs.getJob(`apology.${id}`))?.getState()) === 'delayed', 5000, 'the apology to wait');
    await (await jobs.getJob(`apology.${id}`))!.promote();
    await waitFor(async () => (await (await jobs.getJob(`apology.${id}`))?.getState()) === 'completed', 10_000, 'the apology to run');
  };
  const stalledCount = async () => (await deps.metrics.deadLettered.get()).values.filter((v) => v.labels.reason === 'stalled').reduce((sum, v) => sum + v.value, 0);
  const outcomes = async (conversationId: string) => (await log.list(conversationId, 10)).map((entry) => entry.outcome ?? 'answered');
  const letters = async () => (await queue.deadLetters()).map((letter) => letter.id);
  return { deps, queue, jobs, adapter, stall, apologyRuns, stalledCount, outcomes, letters };
}

describe('a message given up as stalled', () => {
  it('answered by the worker still on it, is not reported lost: no dead-letter count, no apology in the log, no dead letter', async () => {
    const { deps, adapter, stall, apologyRuns, stalledCount, outcomes, letters } = await world('answered');
    const message = inbound({ conversation: conversation('c-survivor') });
    const job = await stall(message);
    // Then the run still on it (its worker back from a Redis outage) answers.
    await processJob(deps, job);
    await apologyRuns(job.id);
    expect(shown(adapter)).toEqual(['the answer']);
    expect(await stalledCount()).toBe(0);
    expect(await outcomes('c-survivor')).toEqual(['answered']);
    expect(await letters()).toEqual([]);
  });

  it('still unanswered when its apology runs, is counted and logged apologised then, once, and stays a dead letter', async () => {
    const { deps, jobs, adapter, stall, apologyRuns, stalledCount, outcomes, letters } = await world('lost');
    const message = inbound({ conversation: conversation('c-lost') });
    const job = await stall(message);
    // Not yet known to be lost: nothing says so while a worker may still answer it.
    expect(await stalledCount()).toBe(0);
    expect(await outcomes('c-lost')).toEqual([]);
    await apologyRuns(job.id);
    expect(shown(adapter)).toEqual(['apology']);
    expect(await stalledCount()).toBe(1);
    expect(await outcomes('c-lost')).toEqual(['apologised']);
    expect(await letters()).toEqual([job.id]);
    // Its apology tried again (as after a platform's 5xx), an answer come too late meanwhile: judged once, it stays lost.
    await processJob(deps, job);
    const apology = (await jobs.getJob(`apology.${job.id}`))!;
    await processJob(deps, { id: apology.id!, group: apology.data.group, data: apology.data.data, attempt: 2, maxAttempts: 3 });
    expect(await stalledCount()).toBe(1);
    expect((await outcomes('c-lost')).sort()).toEqual(['answered', 'apologised']); // both were shown
    expect(await letters()).toEqual([job.id]);
  });

  it('answered before BullMQ gave it up, is not reported lost either', async () => {
    const { deps, adapter, stall, stalledCount, outcomes, letters } = await world('answered-first');
    const message = inbound({ conversation: conversation('c-first') });
    await processJob(deps, { id: messageJobId(message), group: conversationGroup(message.conversation), data: messageData(message, undefined), attempt: 1, maxAttempts: 3 });
    await stall(message);
    expect(shown(adapter)).toEqual(['the answer']);
    expect(await stalledCount()).toBe(0);
    expect(await outcomes('c-first')).toEqual(['answered']);
    expect(await letters()).toEqual([]);
  });

  it("erased (the web chat's DELETE), takes its finished apology too: that job carries the message's text", async () => {
    const { deps, queue, jobs, stall, apologyRuns } = await world('erased');
    const message = inbound({ conversation: conversation('c-erased'), text: 'my card number is 4111 1111 1111 1111' });
    const job = await stall(message);
    await apologyRuns(job.id);
    expect(JSON.stringify((await jobs.getJob(`apology.${job.id}`))?.data)).toContain('4111');
    await forgetter(deps, queue)(message.conversation, [message.id]);
    expect(await jobs.getJob(`apology.${job.id}`)).toBeUndefined();
    expect(await jobs.getJob(job.id)).toBeUndefined();
  });

  it('any other give-up is counted, logged and apologised at once', async () => {
    const { deps, adapter, stalledCount, outcomes } = await world('too-large');
    const message = inbound({ conversation: conversation('c-too-large') });
    await abandonJob(deps, { id: messageJobId(message), group: conversationGroup(message.conversation), data: messageData(message, undefined), attempt: 1, maxAttempts: 3 }, 'too_large');
    const { values } = await deps.metrics.deadLettered.get();
    expect(values.find((v) => v.labels.reason === 'too_large')?.value).toBe(1);
    expect(await stalledCount()).toBe(0);
    expect(await outcomes('c-too-large')).toEqual(['apologised']);
    await waitFor(() => adapter.sent.length === 1, 5000, 'the apology');
  });
});
