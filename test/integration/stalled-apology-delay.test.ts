/**
 * A message BullMQ gives up as stalled may still be running on a worker (one whose Redis was down
 * longer than QUEUE_LOCK_MS): its apology waits, as a delayed job on the real queue, for that run
 * to answer; it is posted only if none did. Any other give-up keeps the apology immediate.
 */
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { Adapter } from '../../src/adapter.js';
import { ConversationHistory } from '../../src/ai/history.js';
import type { AiClient } from '../../src/ai/index.js';
import { abandonJob, noticesOn } from '../../src/apology.js';
import { answerWithAi } from '../../src/handler.js';
import { conversationGroup, messageJobId, type JobData } from '../../src/jobs.js';
import type { InboundMessage } from '../../src/message.js';
import { createMetrics } from '../../src/observe/index.js';
import { BullQueue, MemoryQueue, type Job } from '../../src/queue/index.js';
import { sendOnce } from '../../src/send-once.js';
import { RedisStore } from '../../src/store/index.js';
import { processJob, type WorkerDeps } from '../../src/worker.js';
import { FakeAdapter, conversation, inbound, silentLogger } from '../unit/helpers.js';
import { REDIS_URL, uniquePrefix, useRedis, waitFor } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);
const DELAY_MS = 1500;
const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => void (await Promise.all(closing.splice(0).map((close) => close()))));

const noAi: AiClient = { circuit: 'closed', reply: async () => Promise.reject(new Error('no AI call expected')) };

/** A worker on a real BullQueue (under its own prefix), posting to a fake platform; apologies of stalled messages wait DELAY_MS. */
async function world(name: string) {
  const queuePrefix = `${prefix}-${name}`;
  const queue = new BullQueue<JobData>({ url: REDIS_URL, prefix: queuePrefix, retry: { attempts: 3, backoffMs: 20, maxBackoffMs: 200 }, lockDurationMs: 2000, turnPollMs: 50 });
  const store = new RedisStore(await redis.connection(), `${queuePrefix}-store`);
  const adapter = new FakeAdapter();
  const deps: WorkerDeps = {
    settings: { vision: false, mediaNotice: 'text only', handoffReply: 'handing over' },
    store,
    ai: noAi,
    history: new ConversationHistory(store, { turns: 20, tokenBudget: 3000, ttlSeconds: 3600 }),
    metrics: createMetrics(),
    logger: silentLogger,
    adapterFor: (platform) => (platform === adapter.platform ? (adapter as Adapter) : undefined),
    handler: () => answerWithAi,
    ...noticesOn(queue, 90_000),
    stalledApologyDelayMs: DELAY_MS,
  };
  queue.process((job) => processJob(deps, job), { concurrency: 2, store, onAbandoned: (job, reason) => abandonJob(deps, job, reason) });
  const jobs = new Queue('messages', { connection: await redis.connection(), prefix: queuePrefix });
  closing.push(() => queue.close(1000), () => jobs.close());
  /** The apology job of message job `id`, as BullMQ holds it. */
  const apologyJob = async (id: string) => jobs.getJob(`apology.${id}`);
  const apologies = () => adapter.sent.filter((s) => s.reply.kind === 'apology').map((s) => s.conversation.id);
  return { deps, adapter, apologyJob, apologies };
}

function job(message: InboundMessage): Job<JobData> {
  return { id: messageJobId(message), group: conversationGroup(message.conversation), data: { type: 'message', message }, attempt: 1, maxAttempts: 3 };
}

describe('the apology of a message given up as stalled', () => {
  it('waits for the worker still running it: answered meanwhile, the user gets the answer and no apology', async () => {
    const { deps, adapter, apologyJob, apologies } = await world('answered');
    const lost = job(inbound({ conversation: conversation('c-survivor') }));
    await abandonJob(deps, lost, 'stalled'); // BullMQ failed it (its lock lapsed twice) while a worker still runs it
    // Queued, the apology waits (one queued without a delay has run by the time it is seen completed).
    await waitFor(async () => ['delayed', 'completed'].includes((await (await apologyJob(lost.id))?.getState()) ?? ''), 5000, 'the apology job to be queued');
    // Then the surviving run posts its answer (as processJob does: under the message's own marker).
    await sendOnce(deps, lost.id, 1, conversation('c-survivor'), { kind: 'answer', text: 'the answer' });
    await waitFor(async () => (await (await apologyJob(lost.id))?.getState()) === 'completed', 10_000, 'the apology job to run');
    expect(adapter.sent.map((s) => s.reply.text)).toEqual(['the answer']);
    expect(apologies()).toEqual([]);
  });

  it('still comes when no run answers, after the delay; a message given up for any other reason gets it at once', async () => {
    const { deps, apologyJob, apologies } = await world('unanswered');
    const stalled = job(inbound({ conversation: conversation('c-stalled') }));
    const tooLarge = job(inbound({ conversation: conversation('c-too-large') }));
    await abandonJob(deps, stalled, 'stalled');
    await abandonJob(deps, tooLarge, 'too_large');
    await waitFor(() => apologies().length === 2, 10_000, 'both apologies');
    expect(apologies().sort()).toEqual(['c-stalled', 'c-too-large']);
    expect((await apologyJob(stalled.id))!.opts.delay).toBe(DELAY_MS);
    expect((await apologyJob(tooLarge.id))!.opts.delay ?? 0).toBe(0);
  });

  it('waits, by default, as long as one run may still take: AI_DEADLINE_MS + 30 s', () => {
    expect(noticesOn(new MemoryQueue<JobData>({ attempts: 1, backoffMs: 0, maxBackoffMs: 0 }), 90_000).stalledApologyDelayMs).toBe(120_000);
  });
});
