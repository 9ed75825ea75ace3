/**
 * bot.close() with the in-memory queue: the apology to the messages its drain did not start is
 * given within SHUTDOWN_TIMEOUT_MS. Once the deadline has passed (a platform slow to take a post),
 * close() has resolved and the store is released: no further apology starts, in the background,
 * after it.
 */
import { describe, expect, it } from 'vitest';
import type { Adapter } from '../../src/adapter.js';
import { apologiseNeverStarted } from '../../src/apology.js';
import { ConversationHistory } from '../../src/ai/history.js';
import type { AiClient } from '../../src/ai/index.js';
import { closeWithin } from '../../src/bot-close.js';
import { answerWithAi } from '../../src/handler.js';
import { conversationGroup, keys, messageJobId, type JobData } from '../../src/jobs.js';
import { AnsweringHere, lostOnExit } from '../../src/lost-messages.js';
import type { ConversationRef, Delivery, Reply } from '../../src/message.js';
import { createMetrics } from '../../src/observe/index.js';
import { MemoryQueue } from '../../src/queue/index.js';
import { MemoryStore } from '../../src/store/index.js';
import type { WorkerDeps } from '../../src/worker.js';
import { conversation, inbound, silentLogger, waitFor } from './helpers.js';

/** A platform whose first post hangs until `release()`: the deadline passes while it is under way. */
class SlowFirstPost implements Adapter {
  readonly platform = 'test';
  readonly path = '/test/hook';
  readonly contentTypes = ['application/json'] as const;
  readonly posts: string[] = [];
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));

  async receive(): Promise<never> {
    throw new Error('not used');
  }

  async send(to: ConversationRef, _reply: Reply): Promise<Delivery> {
    this.posts.push(to.id);
    if (this.posts.length === 1) await this.gate;
    return { ids: [`m${this.posts.length}`] };
  }

  release(): void {
    this.opened();
  }
}

describe('the apology pass of a closing in-memory queue', () => {
  it('starts no apology once the deadline has passed', async () => {
    const store = new MemoryStore();
    const adapter = new SlowFirstPost();
    const deps: WorkerDeps = {
      settings: { vision: false, mediaNotice: 'text only', handoffReply: 'handing you over' },
      store,
      ai: { circuit: 'closed' } as unknown as AiClient,
      history: new ConversationHistory(store, { turns: 20, tokenBudget: 3000, ttlSeconds: 3600 }),
      metrics: createMetrics(),
      logger: silentLogger,
      adapterFor: (platform) => (platform === adapter.platform ? adapter : undefined),
      handler: () => answerWithAi,
    };
    // No worker: every job is left never started, as a drain with no time for them leaves them.
    const queue = new MemoryQueue<JobData>({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
    for (const id of ['c1', 'c2', 'c3']) {
      const message = inbound({ conversation: conversation(id) });
      await queue.add({ id: messageJobId(message), group: conversationGroup(message.conversation), data: { type: 'message', message } });
    }
    const here = new AnsweringHere();
    const apologised = new Set<string>();
    const result = await closeWithin(
      {
        servers: [],
        adapters: [adapter],
        queue,
        running: () => 0,
        lost: () => lostOnExit(queue, here, apologised),
        apologise: (timeUp) => apologiseNeverStarted(deps, queue, 1, (job) => void apologised.add(job), timeUp),
        release: async () => undefined,
        drop: async () => undefined,
        logger: silentLogger,
      },
      100,
    );
    expect(result.unfinished).toBe(3);
    expect(adapter.posts).toEqual(['c1']);
    // The hanging post ends after close() resolved: the apology pass it held up goes no further.
    adapter.release();
    const first = queue.unfinishedJobs()[0]!.id;
    await waitFor(async () => (await store.get(keys.apology(first))) !== undefined, 2000, 'the first apology to be done');
    // Had the pass gone on, the next post would have started within these turns of the loop.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(adapter.posts).toEqual(['c1']);
    await store.close();
  });
});
