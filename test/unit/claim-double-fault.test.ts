/**
 * The queue refuses a message and the store refuses to give its delivery claim back at the same
 * moment (on AWS: SQS 500 while DynamoDB throttles). The claim left behind must not turn the
 * platform's redelivery away as a duplicate of a message that was never queued, while a real
 * duplicate (the first try did queue) is still dropped.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { owedClaimsOf } from '../../src/claim-release.js';
import { createBot, loadConfig } from '../../src/index.js';
import { ingest, ingestMessage, type IngestDeps } from '../../src/ingest.js';
import { keys, type JobData } from '../../src/jobs.js';
import { unlimited } from '../../src/limit/index.js';
import { createMetrics } from '../../src/observe/index.js';
import { MemoryQueue, type Job, type NewJob } from '../../src/queue/index.js';
import { MemoryStore, type Store } from '../../src/store/index.js';
import { testEnv } from '../helpers/web-bot.js';
import { inbound, silentLogger, waitFor } from './helpers.js';

/** A process's view of one shared store, whose deletes it can make fail (a throttled DeleteItem). */
class RefusingStore implements Store {
  refuseDeletes = 0;
  /** Refused deletes are carried out all the same (an answer lost: a command timed out that ran). */
  refusedLand = false;
  /** Deletes never answer (an endpoint that accepts and stays silent); how many are hanging. */
  hangDeletes = false;
  hanging = 0;
  constructor(private readonly inner: MemoryStore) {}
  get = (key: string) => this.inner.get(key);
  set = (key: string, value: string, ttlMs?: number) => this.inner.set(key, value, ttlMs);
  setIfAbsent = (key: string, value: string, ttlMs?: number) => this.inner.setIfAbsent(key, value, ttlMs);
  delete = async (key: string) => (await this.refused(() => this.inner.delete(key)), this.inner.delete(key));
  deleteIf = async (key: string, value: string) => (await this.refused(() => this.inner.deleteIf(key, value)), this.inner.deleteIf(key, value));
  listPush = (key: string, values: string[], options?: { maxLength?: number; ttlMs?: number }) => this.inner.listPush(key, values, options);
  listRange = (key: string, start: number, stop: number) => this.inner.listRange(key, start, stop);
  acquireLock = (key: string, ttlMs: number) => this.inner.acquireLock(key, ttlMs);
  extendLock = (key: string, token: string, ttlMs: number) => this.inner.extendLock(key, token, ttlMs);
  releaseLock = (key: string, token: string) => this.inner.releaseLock(key, token);
  ping = () => this.inner.ping();
  close = async () => undefined;
  private async refused(carryOut: () => Promise<unknown>): Promise<void> {
    if (this.hangDeletes) {
      this.hanging++;
      await new Promise(() => undefined);
    }
    if (this.refuseDeletes > 0) {
      this.refuseDeletes--;
      if (this.refusedLand) await carryOut();
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

  it('a claim owed whose give-back landed unseen, the key claimed afresh here and that claim not given back either: the new claim is owed, not left behind', async () => {
    const store = new RefusingStore(shared);
    const deps = process_(store);
    // The first try's release is carried out though the store's answer is an error: nothing holds the key, yet its claim is owed.
    store.refusedLand = true;
    const message = await doubleFault(deps, store, 1);
    expect(await shared.get(keys.seen(message))).toBeUndefined();
    // The retry here claims afresh; the queue refuses it and the store its release (not carried out this time).
    store.refusedLand = false;
    await doubleFault(deps, store, ALWAYS, { ...message });
    expect(await shared.get(keys.seen(message))).toBeDefined();
    store.refuseDeletes = 0;
    await waitFor(() => owedClaimsOf(store).size === 0, 5000, 'nothing owed');
    // Given back: the next retry, wherever it lands, is taken (not dropped as a duplicate of a message never queued).
    expect(await ingest(process_(new RefusingStore(shared)), { ...message })).toBe('queued');
    expect(await queued()).toHaveLength(1);
  });

  it('a redelivery here while the give-back under way hangs: an error (503) once its wait is over, not a webhook that never answers', async () => {
    const store = new RefusingStore(shared);
    const message = await doubleFault(process_(store), store, 1);
    store.hangDeletes = true;
    await waitFor(() => store.hanging > 0, 2000, 'the background give-back under way');
    await expect(ingest(process_(store, 50), { ...message })).rejects.toThrow('still being given back');
  });

  it("a delivery taken again under its own mark (Twilio) is taken though its claim cannot be given back yet", async () => {
    const store = new RefusingStore(shared);
    const deps = process_(store);
    const message = inbound();
    queue.refusing = true;
    store.refuseDeletes = ALWAYS;
    await expect(ingestMessage(deps, message, { delivery: 'mark-1' })).rejects.toThrow('500 InternalError');
    queue.refusing = false;
    // take-again.ts: the queue answers now, the store still refuses deletes; the claim holding the mark is this delivery's own.
    expect(await ingestMessage(deps, { ...message }, { delivery: 'mark-1' })).toEqual({ outcome: 'queued' });
    expect(await queued()).toHaveLength(1);
    store.refuseDeletes = 0;
  });

  it('under its own mark (Twilio, which never redelivers) nothing is owed: no retries, no loss said of a message taken again or answered here', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const store = new RefusingStore(shared);
    queue.refusing = true;
    store.refuseDeletes = ALWAYS;
    await expect(ingestMessage(process_(store, 0, logger), inbound(), { delivery: 'mark-2' })).rejects.toThrow('500 InternalError');
    expect(owedClaimsOf(store).size).toBe(0);
    expect(lines.filter((line) => line.level === 50)).toEqual([]);
    store.refuseDeletes = 0;
  });

  it('claims given back late after an outage: one info line for the lot, not one a message', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const store = new RefusingStore(shared);
    for (let i = 0; i < 3; i++) await doubleFault(process_(store, 0, logger), store, ALWAYS);
    store.refuseDeletes = 0;
    await waitFor(() => owedClaimsOf(store).size === 0, 5000, 'all given back');
    expect(lines.filter((line) => String(line.msg).includes('is given back: its redelivery will be taken'))).toHaveLength(1);
  });

  it('bot.close() gives up the claims still owed, each named at error, instead of retrying against the closed store', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const store = new RefusingStore(shared);
    const bot = createBot({ config: loadConfig(testEnv), logger, store, queue, worker: false });
    queue.refusing = true;
    store.refuseDeletes = ALWAYS;
    const message = inbound();
    await expect(bot.ingest(message)).rejects.toThrow('500 InternalError');
    expect(owedClaimsOf(store).size).toBe(1);
    await bot.close();
    expect(owedClaimsOf(store).size).toBe(0);
    expect(lines.find((line) => String(line.msg).startsWith('gave up giving back a delivery claim (the bot closed first)'))).toMatchObject({ level: 50, message: message.id });
    store.refuseDeletes = 0;
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
