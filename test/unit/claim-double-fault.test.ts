/**
 * The queue refuses a message and the store refuses to give its delivery claim back at the same
 * moment (on AWS: SQS 500 while DynamoDB throttles). The claim left behind must not turn the
 * platform's redelivery away as a duplicate of a message that was never queued, while a real
 * duplicate (the first try did queue) is still dropped.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingest, type IngestDeps } from '../../src/ingest.js';
import { keys, type JobData } from '../../src/jobs.js';
import { unlimited } from '../../src/limit/index.js';
import { createMetrics } from '../../src/observe/index.js';
import { MemoryQueue, type Job, type NewJob } from '../../src/queue/index.js';
import { MemoryStore, type Store } from '../../src/store/index.js';
import { inbound, silentLogger, waitFor } from './helpers.js';

/** A process's view of one shared store, whose deletes it can make fail (a throttled DeleteItem). */
class RefusingStore implements Store {
  refuseDeletes = 0;
  constructor(private readonly inner: MemoryStore) {}
  get = (key: string) => this.inner.get(key);
  set = (key: string, value: string, ttlMs?: number) => this.inner.set(key, value, ttlMs);
  setIfAbsent = (key: string, value: string, ttlMs?: number) => this.inner.setIfAbsent(key, value, ttlMs);
  delete = async (key: string) => (this.refused(), this.inner.delete(key));
  deleteIf = async (key: string, value: string) => (this.refused(), this.inner.deleteIf(key, value));
  listPush = (key: string, values: string[], options?: { maxLength?: number; ttlMs?: number }) => this.inner.listPush(key, values, options);
  listRange = (key: string, start: number, stop: number) => this.inner.listRange(key, start, stop);
  acquireLock = (key: string, ttlMs: number) => this.inner.acquireLock(key, ttlMs);
  extendLock = (key: string, token: string, ttlMs: number) => this.inner.extendLock(key, token, ttlMs);
  releaseLock = (key: string, token: string) => this.inner.releaseLock(key, token);
  ping = () => this.inner.ping();
  close = async () => undefined;
  private refused(): void {
    if (this.refuseDeletes > 0) {
      this.refuseDeletes--;
      throw new Error('ProvisionedThroughputExceededException: throttled');
    }
  }
}

/** A queue that refuses while `refusing` (SQS answering 500). */
class RefusingQueue extends MemoryQueue<JobData> {
  refusing = false;
  override async add(job: NewJob<JobData>): Promise<boolean> {
    if (this.refusing) throw new Error('SQS SendMessage: 500 InternalError');
    return super.add(job);
  }
}

const ALWAYS = Number.MAX_SAFE_INTEGER;
let shared: MemoryStore;
let queue: RefusingQueue;

beforeEach(() => {
  shared = new MemoryStore();
  queue = new RefusingQueue({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
});
afterEach(async () => {
  await queue.close(0);
  await shared.close();
});

function process_(store: Store, waitMs = 0, logger = silentLogger): IngestDeps {
  return { store, queue, userLimiter: unlimited, metrics: createMetrics(), logger, releaseWaitMs: () => waitMs };
}

async function queued(): Promise<Job<JobData>[]> {
  const jobs: Job<JobData>[] = [];
  queue.process(async (job) => void jobs.push(job), { concurrency: 4 });
  await waitFor(async () => {
    const counts = await queue.counts();
    return counts.waiting + counts.active + counts.delayed === 0;
  });
  return jobs;
}

/** The first try: the queue refuses it and the store refuses `deletes` releases of its claim. */
async function doubleFault(deps: IngestDeps, store: RefusingStore, deletes: number, message = inbound()) {
  queue.refusing = true;
  store.refuseDeletes = deletes;
  await expect(ingest(deps, message)).rejects.toThrow('500 InternalError');
  queue.refusing = false;
  return message;
}

describe('a delivery whose claim could not be given back', () => {
  it('is not dropped as a duplicate when redelivered here while the store still refuses: an error (503), and taken once it can', async () => {
    const store = new RefusingStore(shared);
    const deps = process_(store);
    const message = await doubleFault(deps, store, ALWAYS);
    expect(await shared.get(keys.seen(message))).toBeDefined();
    // Slack's retry after ~1 s: the store still throttles; answered 503 again, not 200 as a duplicate.
    await expect(ingest(deps, { ...message })).rejects.toThrow('throttled');
    store.refuseDeletes = 0;
    expect(await ingest(deps, { ...message })).toBe('queued');
    // Its own retries after that are real duplicates.
    expect(await ingest(deps, { ...message })).toBe('duplicate');
    expect((await queued()).map((job) => job.data.type === 'message' && job.data.message.id)).toEqual([message.id]);
  });

  it('concurrent redeliveries here: exactly one is taken', async () => {
    const store = new RefusingStore(shared);
    const deps = process_(store);
    const message = await doubleFault(deps, store, ALWAYS);
    store.refuseDeletes = 0;
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => ingest(deps, { ...message })));
    expect(outcomes.filter((outcome) => outcome === 'queued')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(4);
    expect(await queued()).toHaveLength(1);
  });

  it('is given back in the background once the store recovers, so a redelivery to another process is taken', async () => {
    const first = new RefusingStore(shared);
    const message = await doubleFault(process_(first), first, 3);
    await waitFor(async () => (await shared.get(keys.seen(message))) === undefined, 5000, 'the claim given back');
    const other = process_(new RefusingStore(shared));
    expect(await ingest(other, { ...message })).toBe('queued');
    expect(await ingest(other, { ...message })).toBe('duplicate');
    expect(await queued()).toHaveLength(1);
  });

  it('is given back before the error answer when the store recovers within the ack budget, and no loss is logged', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const store = new RefusingStore(shared);
    const message = await doubleFault(process_(store, 60_000, logger), store, 1);
    expect(await shared.get(keys.seen(message))).toBeUndefined();
    expect(lines.filter((line) => line.level === 50)).toEqual([]);
    expect(await ingest(process_(new RefusingStore(shared)), { ...message })).toBe('queued');
  });

  it('a real duplicate (the first try did queue) is still dropped, here and elsewhere', async () => {
    const store = new RefusingStore(shared);
    const deps = process_(store);
    const taken = inbound();
    expect(await ingest(deps, taken)).toBe('queued');
    // Another message's claim is owed meanwhile: it changes nothing for this one.
    await doubleFault(deps, store, ALWAYS);
    expect(await ingest(deps, { ...taken })).toBe('duplicate');
    expect(await ingest(process_(new RefusingStore(shared)), { ...taken })).toBe('duplicate');
    store.refuseDeletes = 0;
  });
});
