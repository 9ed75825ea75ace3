/**
 * A job whose queue may lose its hold on it (SQS polling: the message's visibility not renewed in
 * time) posts nothing once the hold is gone: the worker that has it now answers. The lease itself
 * (aws/sqs-lease.ts) says when the hold is gone.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { holdMessage } from '../../aws/sqs-lease.js';
import type { Adapter, ReplyPart } from '../../src/adapter.js';
import { ConversationHistory } from '../../src/ai/history.js';
import type { AiClient, AiResult } from '../../src/ai/index.js';
import { LeaseLostError } from '../../src/errors.js';
import { answerWithAi } from '../../src/handler.js';
import { conversationGroup, messageJobId, type JobData } from '../../src/jobs.js';
import type { ConversationRef, InboundMessage } from '../../src/message.js';
import { createMetrics } from '../../src/observe/index.js';
import type { Job } from '../../src/queue/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { processJob, type WorkerDeps } from '../../src/worker.js';
import { inbound, silentLogger } from './helpers.js';

/** A platform that posts replies in parts of 10 characters; its own state in a private field (as a class adapter may keep it). */
class PartsAdapter implements Adapter {
  readonly platform = 'test';
  readonly path = '/test/hook';
  readonly contentTypes = ['application/json'] as const;
  readonly maxChars = 10;
  readonly #posted: string[] = [];
  /** Called before each part is posted. */
  beforePart?: (part: ReplyPart) => void;

  async receive(): Promise<never> {
    throw new Error('not used');
  }

  async sendPart(_conversation: ConversationRef, text: string, part: ReplyPart): Promise<string> {
    this.beforePart?.(part);
    this.#posted.push(text);
    return `m${this.#posted.length}`;
  }

  get posted(): string[] {
    return [...this.#posted];
  }
}

let store: MemoryStore;
let adapter: PartsAdapter;
let deps: WorkerDeps;

beforeEach(() => {
  store = new MemoryStore();
  adapter = new PartsAdapter();
  const ai: AiClient = { circuit: 'closed', reply: async (): Promise<AiResult> => ({ text: 'first part second part', model: 'fake', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 }, cached: false }) } as unknown as AiClient;
  deps = {
    settings: { vision: false, mediaNotice: 'text only', handoffReply: 'handing you over' },
    store,
    ai,
    history: new ConversationHistory(store, { turns: 20, tokenBudget: 3000, ttlSeconds: 3600 }),
    metrics: createMetrics(),
    logger: silentLogger,
    adapterFor: (platform) => (platform === adapter.platform ? adapter : undefined),
    handler: () => answerWithAi,
  };
});
afterEach(async () => {
  vi.useRealTimers();
  await store.close();
});

const job = (message: InboundMessage, attempt: number, stillHeld?: () => boolean): Job<JobData> => ({
  id: messageJobId(message),
  group: conversationGroup(message.conversation),
  data: { type: 'message', message },
  attempt,
  maxAttempts: 3,
  ...(stillHeld ? { stillHeld } : {}),
});

async function counted(name: 'repliesFailed' | 'deadLettered'): Promise<number> {
  return (await deps.metrics[name].get()).values.reduce((sum, v) => sum + v.value, 0);
}

describe('a job whose hold ran out', () => {
  it('posts nothing, on its last attempt too: no apology queued, nothing counted failed or dead-lettered, the error says why', async () => {
    const notices: string[] = [];
    deps = { ...deps, durableNotices: true, queueNotice: async (id) => void notices.push(id) };
    const message = inbound();
    const run = processJob(deps, job(message, 3, () => false));
    await expect(run).rejects.toBeInstanceOf(LeaseLostError);
    expect(adapter.posted).toEqual([]);
    expect(notices).toEqual([]);
    expect(await counted('repliesFailed')).toBe(0);
    expect(await counted('deadLettered')).toBe(0);
  });

  it('lost between two parts of a reply: the first stays posted, and the run that has the job now posts only the rest', async () => {
    const message = inbound();
    let held = true;
    adapter.beforePart = (part) => void (part.index === 0 && (held = false)); // runs out while the first part is posted
    await expect(processJob(deps, job(message, 1, () => held))).rejects.toBeInstanceOf(LeaseLostError);
    expect(adapter.posted).toEqual(['first part']);
    // Another worker's run of the same job (redelivered), holding it.
    adapter.beforePart = undefined;
    await processJob(deps, { ...job(message, 2, () => true), redelivered: true });
    expect(adapter.posted).toEqual(['first part', 'second', 'part']);
  });
});

describe("an SQS message's lease (polling)", () => {
  it('is held while renewals succeed; lost once less than a renewal period is left of the last visibility granted; held again after a renewal answered in time', async () => {
    vi.useFakeTimers({ now: 0 });
    let renewals: 'failing' | 'slow' = 'failing';
    let answer: (() => void) | undefined;
    const renew = () => (renewals === 'failing' ? Promise.reject(new Error('SQS 500')) : new Promise<void>((resolve) => (answer = resolve)));
    const lease = holdMessage(renew, 30, 0);
    expect(lease.held()).toBe(true);
    // The renewal at 10 s fails; the one at 20 s gets no answer yet: 30 s from the receive, 10 s are left at 20 s.
    await vi.advanceTimersByTimeAsync(19_999);
    renewals = 'slow';
    expect(lease.held()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(lease.held()).toBe(false);
    // Answered at 25 s, while the message was still hidden: hidden until 50 s (counted from the ask).
    await vi.advanceTimersByTimeAsync(5_000);
    answer!();
    await vi.advanceTimersByTimeAsync(0);
    expect(lease.held()).toBe(true);
    lease.stop();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(lease.held()).toBe(false);
  });

  it('once the visibility ran out, a renewal that works again does not take the hold back: another worker may have received the message meanwhile', async () => {
    vi.useFakeTimers({ now: 0 });
    let renewals: 'failing' | 'working' = 'failing';
    const renew = async () => {
      if (renewals === 'failing') throw new Error('SQS 500');
    };
    const lease = holdMessage(renew, 30, 0);
    // Renewals at 10 s and 20 s fail: the message may be visible again from 30 s.
    await vi.advanceTimersByTimeAsync(29_999);
    expect(lease.held()).toBe(false);
    renewals = 'working';
    await vi.advanceTimersByTimeAsync(1); // the renewal at 30 s works
    expect(lease.held()).toBe(false);
    await vi.advanceTimersByTimeAsync(20_000); // and those at 40 s and 50 s
    expect(lease.held()).toBe(false);
    lease.stop();
  });
});

describe("an SQS message's lease (Lambda: no renewals, given back before the function's timeout)", () => {
  it("gives the message back 2 s before the timeout, visible again a few seconds after it; held until the timeout, never renewed", async () => {
    vi.useFakeTimers({ now: 0 });
    const asked: number[] = [];
    const lease = holdMessage(async (seconds) => void asked.push(seconds), undefined, 0, 10_000);
    await vi.advanceTimersByTimeAsync(7_999);
    expect(asked).toEqual([]);
    expect(lease.held()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    // 2 s left, plus 3: visible again 3 s after the function is stopped, not after the queue's visibility timeout.
    expect(asked).toEqual([5]);
    expect(lease.held()).toBe(true);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(lease.held()).toBe(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(asked).toEqual([5]);
    lease.stop();
  });

  it('a message settled in time (stop()) is not given back', async () => {
    vi.useFakeTimers({ now: 0 });
    const asked: number[] = [];
    const lease = holdMessage(async (seconds) => void asked.push(seconds), undefined, 0, 10_000);
    await vi.advanceTimersByTimeAsync(5_000);
    lease.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(asked).toEqual([]);
  });

  it('a timeout nearer than 2 s: given back at once; a give-back that fails is left at that (the message comes back after its visibility timeout, as before)', async () => {
    vi.useFakeTimers({ now: 0 });
    const asked: number[] = [];
    const lease = holdMessage((seconds) => (asked.push(seconds), Promise.reject(new Error('SQS 500'))), undefined, 0, 1_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(asked).toEqual([4]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(asked).toEqual([4]);
    lease.stop();
  });
});
