import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimDelivery, ingest, ingestMessage, takeDelivery, type IngestDeps } from '../../src/ingest.js';
import { keys, messageJobId, type JobData } from '../../src/jobs.js';
import { createMemoryLimiter, unlimited, type Limiter } from '../../src/limit/index.js';
import { createMetrics } from '../../src/observe/index.js';
import { MemoryQueue, QueueClosedError, type Job } from '../../src/queue/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { conversation, inbound, silentLogger, waitFor } from './helpers.js';

let store: MemoryStore;
let queue: MemoryQueue<JobData>;
let deps: IngestDeps;

function makeDeps(userLimiter: Limiter = unlimited): IngestDeps {
  return { store, queue, userLimiter, metrics: createMetrics(), logger: silentLogger };
}

beforeEach(() => {
  store = new MemoryStore();
  queue = new MemoryQueue<JobData>({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
  deps = makeDeps();
});
afterEach(async () => {
  await queue.close(0);
  await store.close();
});

async function duplicates(d: IngestDeps, platform = 'test'): Promise<number> {
  const { values } = await d.metrics.duplicatesDropped.get();
  return values.find((v) => v.labels.platform === platform)?.value ?? 0;
}

async function drain(q: MemoryQueue<JobData>): Promise<Job<JobData>[]> {
  const jobs: Job<JobData>[] = [];
  q.process(async (job) => void jobs.push(job), { concurrency: 4 });
  await waitFor(async () => {
    const counts = await q.counts();
    return counts.waiting + counts.active + counts.delayed === 0;
  });
  return jobs;
}

describe('claimDelivery', () => {
  it('runs accept for the first delivery and returns its result', async () => {
    const message = inbound();
    let calls = 0;
    expect(await claimDelivery(deps, message, async () => ++calls)).toBe(1);
    expect(calls).toBe(1);
    expect(await store.get(keys.seen(message))).toBeTypeOf('string');
  });

  it('drops a redelivery as a duplicate without running accept, and counts it', async () => {
    const message = inbound();
    let calls = 0;
    await claimDelivery(deps, message, async () => ++calls);
    expect(await claimDelivery(deps, { ...message }, async () => ++calls)).toBe('duplicate');
    expect(await claimDelivery(deps, { ...message }, async () => ++calls)).toBe('duplicate');
    expect(calls).toBe(1);
    expect(await duplicates(deps)).toBe(2);
  });

  it('lets only one of concurrent deliveries of the same id through', async () => {
    const message = inbound();
    let calls = 0;
    const results = await Promise.all(Array.from({ length: 10 }, () => claimDelivery(deps, message, async () => ++calls)));
    expect(calls).toBe(1);
    expect(results.filter((r) => r === 'duplicate')).toHaveLength(9);
  });

  it('treats the same id on different platforms as different deliveries', async () => {
    let calls = 0;
    await claimDelivery(deps, inbound({ id: 'same', platform: 'slack' }), async () => ++calls);
    await claimDelivery(deps, inbound({ id: 'same', platform: 'web' }), async () => ++calls);
    expect(calls).toBe(2);
  });

  it('releases the claim when accept throws, so the redelivery is taken', async () => {
    const message = inbound();
    await expect(
      claimDelivery(deps, message, async () => {
        throw new Error('queue unreachable');
      }),
    ).rejects.toThrow('queue unreachable');
    expect(await store.get(keys.seen(message))).toBeUndefined();
    expect(await claimDelivery(deps, message, async () => 'taken')).toBe('taken');
    expect(await duplicates(deps)).toBe(0);
  });
});

describe('ingest', () => {
  it('queues a message under its job id, in its conversation’s group', async () => {
    const message = inbound({ id: 'Ev:1/2', conversation: conversation('T1:C1') });
    expect(await ingest(deps, message)).toBe('queued');
    const jobs = await drain(queue);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.id).toBe(messageJobId(message));
    expect(jobs[0]?.id).not.toContain(':');
    expect(jobs[0]?.data).toEqual({ type: 'message', message });
  });

  it('refuses a message built by hand that lacks a field with a TypeError naming each one (bot.ingest), and takes nothing', async () => {
    const { conversation: _left, receivedAt: _out, ...partial } = inbound();
    await expect(ingest(deps, partial as never)).rejects.toThrow(/^bot\.ingest: the message's conversation\.platform, conversation\.id, receivedAt are missing or not text\. Fix: /);
    await expect(ingest(deps, null as never)).rejects.toThrow('bot.ingest: expected a message object, got null');
    await expect(ingest(deps, { ...inbound(), text: undefined } as never)).rejects.toThrow(/the message's text is missing/);
    expect(await drain(queue)).toEqual([]);
  });

  it('queues a redelivered message once', async () => {
    const message = inbound();
    expect(await ingest(deps, message)).toBe('queued');
    expect(await ingest(deps, { ...message })).toBe('duplicate');
    expect((await drain(queue)).map((j) => j.id)).toEqual([messageJobId(message)]);
    expect(await duplicates(deps)).toBe(1);
  });

  it('throws when the queue cannot take the message, and takes the redelivery afterwards', async () => {
    const message = inbound();
    await queue.close(0);
    await expect(ingest(deps, message)).rejects.toBeInstanceOf(QueueClosedError);
    // the platform redelivers (it got a 5xx); by then the queue is back
    queue = new MemoryQueue<JobData>({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
    const retried = { ...deps, queue };
    expect(await ingest(retried, message)).toBe('queued');
    expect(await duplicates(retried)).toBe(0);
    expect(await drain(queue)).toHaveLength(1);
  });

  it('takes the same delivery again after a try whose claim went through unanswered (a timeout), and no other delivery', async () => {
    const message = inbound();
    // The claim is written, but its answer is lost: the try fails with its outcome unknown.
    const lost = new (class extends MemoryStore {
      override async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
        await store.setIfAbsent(key, value, ttlMs);
        throw new Error('Command timed out');
      }
    })();
    await expect(ingestMessage({ ...deps, store: lost }, message, { delivery: 'delivery-1' })).rejects.toThrow('Command timed out');
    expect(await ingestMessage(deps, message, { delivery: 'delivery-2' })).toEqual({ outcome: 'duplicate' });
    expect(await ingestMessage(deps, message, { delivery: 'delivery-1' })).toEqual({ outcome: 'queued' });
    expect((await drain(queue)).map((j) => j.id)).toEqual([messageJobId(message)]);
    expect(await duplicates(deps)).toBe(1);
  });

  it('refuses messages over the per-user limit and queues one notice per window', async () => {
    deps = makeDeps(createMemoryLimiter({ points: 2, durationSeconds: 60, keyPrefix: 'ingest-test' }));
    const conv = conversation('busy-chat');
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await ingest(deps, inbound({ user: { id: 'chatty' }, conversation: conv })));
    expect(outcomes).toEqual(['queued', 'queued', 'rate_limited', 'rate_limited', 'rate_limited']);
    // another user is not affected
    expect(await ingest(deps, inbound({ user: { id: 'calm' }, conversation: conv }))).toBe('queued');
    const jobs = await drain(queue);
    const notices = jobs.filter((j) => j.data.type === 'notice');
    expect(notices).toHaveLength(1);
    const notice = notices[0]?.data;
    expect(notice?.type === 'notice' && notice.conversation).toEqual(conv);
    expect(notice?.type === 'notice' && notice.reply.kind).toBe('notice');
    expect(notice?.type === 'notice' && notice.reply.text).toMatch(/\d+ s/);
    expect(jobs.filter((j) => j.data.type === 'message')).toHaveLength(3);
    const { values } = await deps.metrics.rateLimited.get();
    expect(values.find((v) => v.labels.limit === 'user')?.value).toBe(3);
  });

  it('counts the per-user limit per tenant: the same user id in another workspace has its own window and its own notice', async () => {
    deps = makeDeps(createMemoryLimiter({ points: 2, durationSeconds: 60, keyPrefix: 'ingest-tenants' }));
    const user = { id: 'U0SAME' };
    const inA = conversation('a-chat');
    const inB = conversation('b-chat');
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await ingest(deps, inbound({ user, conversation: inA, tenant: 'TAAA' })));
    for (let i = 0; i < 3; i++) outcomes.push(await ingest(deps, inbound({ user, conversation: inB, tenant: 'TBBB' })));
    expect(outcomes).toEqual(['queued', 'queued', 'rate_limited', 'queued', 'queued', 'rate_limited']);
    const notices = (await drain(queue)).filter((j) => j.data.type === 'notice');
    expect(notices.map((j) => j.data.type === 'notice' && j.data.conversation.id).sort()).toEqual([inA.id, inB.id].sort());
  });

  it('a notice the queue could not take is queued by the redelivery: still one notice for the window', async () => {
    // The queue refuses the first notice (down for a moment); the platform redelivers after the 5xx.
    let refusals = 1;
    const flaky = new (class extends MemoryQueue<JobData> {
      override async add(job: Parameters<MemoryQueue<JobData>['add']>[0]): Promise<boolean> {
        if (job.data.type === 'notice' && refusals-- > 0) throw new QueueClosedError();
        return super.add(job);
      }
    })({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
    queue = flaky;
    deps = { ...makeDeps(createMemoryLimiter({ points: 1, durationSeconds: 60, keyPrefix: 'notice-retry' })), queue: flaky };
    const user = { id: 'eager' };
    expect(await ingest(deps, inbound({ id: 'm1', user }))).toBe('queued');
    const over = inbound({ id: 'm2', user });
    await expect(ingest(deps, over)).rejects.toBeInstanceOf(QueueClosedError);
    expect(await ingest(deps, { ...over })).toBe('rate_limited');
    expect(await ingest(deps, inbound({ id: 'm3', user }))).toBe('rate_limited');
    expect((await drain(flaky)).filter((j) => j.data.type === 'notice')).toHaveLength(1);
  });
});

describe('a message taken only while the store holds a key (onlyIfStored)', () => {
  const received = async (d: IngestDeps) => (await d.metrics.messagesReceived.get()).values.reduce((sum, v) => sum + v.value, 0);

  it('is ignored while the key is missing: no claim, no limit counted, nothing queued', async () => {
    const limited = makeDeps(createMemoryLimiter({ points: 1, durationSeconds: 60, keyPrefix: 'only-if' }));
    const message = inbound({ onlyIfStored: 'parley:test:answered' });
    expect(await ingest(limited, message)).toBe('ignored');
    expect(await store.get(keys.seen(message))).toBeUndefined();
    expect((await queue.counts()).waiting).toBe(0);
    expect(await received(limited)).toBe(0);
    expect(await duplicates(limited)).toBe(0);
    // The user's one message a minute was not spent on it.
    await store.set('parley:test:answered', '1');
    expect(await ingest(limited, message)).toBe('queued');
    expect(await received(limited)).toBe(1);
  });

  it('is not answered in direct mode either (takeDelivery) while the key is missing', async () => {
    let answered = 0;
    const message = inbound({ onlyIfStored: 'parley:test:answered' });
    expect(await takeDelivery(deps, message, {}, async () => void answered++)).toEqual({ outcome: 'ignored' });
    await store.set('parley:test:answered', '1');
    expect(await takeDelivery(deps, message, {}, async () => void answered++)).toEqual({ outcome: 'queued' });
    expect(answered).toBe(1);
  });

  it('is taken as any message while the key is there', async () => {
    await store.set('parley:test:answered', '1');
    const message = inbound({ onlyIfStored: 'parley:test:answered' });
    expect(await ingest(deps, message)).toBe('queued');
    expect(await ingest(deps, message)).toBe('duplicate');
    const jobs = await drain(queue);
    expect(jobs.map((job) => job.id)).toEqual([messageJobId(message)]);
  });
});

describe("a taken message's mark (InboundMessage.marks)", () => {
  it('is written when the message is taken, and not when it is a duplicate', async () => {
    const message = { ...inbound(), marks: { key: 'mark:thread-1', ttlMs: 60_000 } };
    expect(await ingest(deps, message)).toBe('queued');
    expect(await store.get('mark:thread-1')).toBe('1');
    await store.delete('mark:thread-1');
    expect(await ingest(deps, { ...message })).toBe('duplicate');
    expect(await store.get('mark:thread-1')).toBeUndefined();
  });

  it('that the store cannot write does not refuse the message: it is queued all the same', async () => {
    const failing = new (class extends MemoryStore {
      override async set(key: string, value: string, ttlMs?: number): Promise<void> {
        if (key.startsWith('mark:')) throw new Error('store down (test)');
        return super.set(key, value, ttlMs);
      }
    })();
    const d = { ...deps, store: failing };
    expect(await ingest(d, { ...inbound(), marks: { key: 'mark:thread-2', ttlMs: 60_000 } })).toBe('queued');
    expect(await drain(queue)).toHaveLength(1);
  });
});
