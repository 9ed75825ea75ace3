/**
 * The Redis ack's intake (src/queue/intake.ts), on a real Redis: an admitted job waits in the
 * intake stream until a worker's pump moves it into BullMQ; it is counted as waiting meanwhile,
 * runs once, in its conversation's order; entries of a pump that died are taken over; an entry
 * that holds no job is dropped with a warning; a stream deleted under a running pump is recreated.
 */
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { BullQueue, BullQueueOptions, Job } from '../../src/queue/index.js';
import { IntakePump } from '../../src/queue/intake.js';
import { connectRedis } from '../../src/store/index.js';
import { freePort } from '../helpers/processes.js';
import { bullQueue, queueTestKit, type Data } from '../helpers/queue.js';
import { sleep, uniquePrefix, useRedis, waitFor } from './redis-helpers.js';

const filePrefix = uniquePrefix();
const redis = useRedis(filePrefix);
let counter = 0;
const kit = queueTestKit();
afterEach(() => kit.cleanup());

function setup(options: Partial<Omit<BullQueueOptions, 'retry'>> = {}) {
  const prefix = `${filePrefix}-${++counter}`;
  const queue = (): BullQueue<Data> => kit.track(bullQueue(prefix, options), 1000);
  const admit = (q: BullQueue<Data>, id: string, group: string, n: number) => q.admit({ id, group, data: { n } }, { claim: `seen:${id}`, claimTtlMs: 60_000, limits: [] });
  const intake = `${prefix}:intake`;
  /** BullMQ's own view of the queue, apart from parley's (close it after use). */
  const openBullMq = () => new Queue('messages', { connection: { host: '127.0.0.1', port: 6379 }, prefix });
  /** What BullMQ itself holds (not counting the intake). */
  const inBullMq = async () => {
    const raw = openBullMq();
    try {
      return await raw.getJobCountByTypes('waiting', 'active', 'completed', 'delayed', 'prioritized');
    } finally {
      await raw.close();
    }
  };
  return { queue, admit, intake, inBullMq, openBullMq };
}

const ran = () => {
  const runs: string[] = [];
  return { runs, handler: async (job: Job<Data>) => void runs.push(`${job.group}:${job.data.n}`) };
};

describe('the Redis intake', () => {
  it('holds admitted jobs, counted as waiting, until a worker runs; two pumps then move each once, in its conversation\'s order', async () => {
    const { queue, admit, intake, inBullMq } = setup();
    const ingress = queue();
    for (let n = 1; n <= 4; n++) {
      expect(await admit(ingress, `a${n}`, 'a', n)).toEqual({ outcome: 'queued' });
      expect(await admit(ingress, `b${n}`, 'b', n)).toEqual({ outcome: 'queued' });
    }
    expect(await admit(ingress, 'a1', 'a', 1)).toEqual({ outcome: 'duplicate' });
    expect(await redis.admin().xlen(intake)).toBe(8);
    expect((await ingress.counts()).waiting).toBe(8);
    expect(await inBullMq()).toBe(0);

    const { runs, handler } = ran();
    for (const worker of [queue(), queue()]) worker.process(handler, { concurrency: 4 });
    await waitFor(() => runs.length === 8, 5000, 'every admitted job to run');
    await sleep(200);
    expect(runs.filter((run) => run.startsWith('a:'))).toEqual(['a:1', 'a:2', 'a:3', 'a:4']);
    expect(runs.filter((run) => run.startsWith('b:'))).toEqual(['b:1', 'b:2', 'b:3', 'b:4']);
    expect(await redis.admin().xlen(intake)).toBe(0);
    expect(await redis.admin().xpending(intake, 'pump')).toEqual([0, null, null, null]);
  });

  it('moves jobs as the workers need them: a backlog waits in the intake, BullMQ holds twice the concurrency (at least 16)', async () => {
    const { queue, admit, intake, openBullMq } = setup();
    const ingress = queue();
    for (let n = 1; n <= 40; n++) await admit(ingress, `f${n}`, `f${n}`, n);
    const gate = { open: false };
    const runs: number[] = [];
    const concurrency = 2;
    queue().process(
      async (job: Job<Data>) => {
        runs.push(job.data.n);
        await waitFor(() => gate.open, 10_000, 'the test to let the jobs finish');
      },
      { concurrency },
    );
    await waitFor(() => runs.length === concurrency, 5000, 'the first jobs to start');
    await sleep(300); // the pump has had every chance to move more
    const raw = openBullMq();
    try {
      expect(await raw.getWaitingCount()).toBeLessThanOrEqual(16);
      expect(await redis.admin().xlen(intake)).toBeGreaterThanOrEqual(40 - concurrency - 16);
      expect((await ingress.counts()).waiting).toBe(40 - concurrency);
    } finally {
      await raw.close();
    }
    gate.open = true;
    await waitFor(() => runs.length === 40, 10_000, 'the whole backlog to run');
    expect(new Set(runs).size).toBe(40);
    await waitFor(async () => (await redis.admin().xlen(intake)) === 0, 2000, 'the intake to empty');
  });

  it("goes on moving when BullMQ's count cannot be read: the failure is reported, the jobs wait, nothing is lost", async () => {
    const { queue, admit, intake, openBullMq } = setup();
    const ingress = queue();
    for (let n = 1; n <= 12; n++) await admit(ingress, `g${n}`, `g${n}`, n);
    const bull = openBullMq();
    const writer = connectRedis('redis://127.0.0.1:6379');
    const errors: string[] = [];
    let looks = 0;
    const pump = new IntakePump({
      url: 'redis://127.0.0.1:6379',
      key: intake,
      queue: bull,
      writer,
      jobOptions: {},
      enteringKeys: () => [],
      onError: (error) => void errors.push(String(error)),
      reclaimIdleMs: 30_000,
      keepQueued: 4,
      queued: async () => {
        if (++looks === 1) throw new Error('count unavailable');
        return bull.getWaitingCount();
      },
    });
    try {
      pump.start();
      await waitFor(() => errors.length > 0, 5000, 'the failed count to be reported');
      expect(errors[0]).toMatch(/count unavailable/);
      // No worker takes jobs: BullMQ fills up to about keepQueued, and the rest waits in the intake.
      await waitFor(async () => (await bull.getWaitingCount()) >= 4, 5000, 'the pump to move jobs again');
      await sleep(200);
      const inBull = await bull.getWaitingCount();
      expect(inBull).toBeLessThanOrEqual(6);
      expect(inBull + (await redis.admin().xlen(intake))).toBe(12);
      // As the workers take them (here: they are read and removed), the pump moves the rest, each once.
      // Only the jobs read are removed: one the pump adds meanwhile waits for the next look.
      const moved = new Set<string>();
      await waitFor(
        async () => {
          for (const job of await bull.getJobs(['wait'])) {
            moved.add(String(job.id));
            await job.remove();
          }
          return moved.size === 12 && (await redis.admin().xlen(intake)) === 0;
        },
        5000,
        'every job to be moved',
      );
      expect([...moved].sort()).toEqual(Array.from({ length: 12 }, (_, k) => `g${k + 1}`).sort());
    } finally {
      await pump.stop();
      writer.disconnect();
      await bull.close();
    }
  });

  it('takes over the entries of a pump that died between reading and moving them', async () => {
    const { queue, admit, intake } = setup({ lockDurationMs: 400 });
    const ingress = queue();
    for (let n = 1; n <= 3; n++) await admit(ingress, `c${n}`, 'c', n);
    // A worker process reads the entries and dies before moving them into BullMQ.
    await redis.admin().xgroup('CREATE', intake, 'pump', '0', 'MKSTREAM');
    const read = (await redis.admin().xreadgroup('GROUP', 'pump', 'dead', 'COUNT', 10, 'STREAMS', intake, '>')) as [string, unknown[]][];
    expect(read[0]?.[1]).toHaveLength(3);

    const { runs, handler } = ran();
    queue().process(handler, { concurrency: 2 });
    await waitFor(() => runs.length === 3, 5000, 'the orphaned entries to be moved and run');
    await sleep(300);
    expect(runs).toEqual(['c:1', 'c:2', 'c:3']);
    expect(await redis.admin().xlen(intake)).toBe(0);
  });

  it('leaves no consumer behind: a stopped pump forgets its own, a running one those of pumps that died with nothing pending', async () => {
    const { queue, admit, intake } = setup({ lockDurationMs: 400 });
    const consumers = async () => ((await redis.admin().xinfo('CONSUMERS', intake, 'pump')) as unknown[][]).map((fields) => ({ name: String(fields[1]), pending: Number(fields[3]) }));
    const ingress = queue();
    // Three worker processes, one after another (restarts, deploys).
    for (let n = 1; n <= 3; n++) {
      await admit(ingress, `r${n}`, 'r', n);
      const { runs, handler } = ran();
      const worker = queue();
      worker.process(handler, { concurrency: 1 });
      await waitFor(() => runs.length === 1, 5000, 'the job to run');
      expect(await consumers()).toHaveLength(1);
      await worker.close(1000);
      expect(await consumers()).toEqual([]);
    }
    // A pump that died holding entries, and one that died holding none.
    await admit(ingress, 'r4', 'r', 4);
    await redis.admin().xreadgroup('GROUP', 'pump', 'dead-holding', 'COUNT', 10, 'STREAMS', intake, '>');
    await redis.admin().xgroup('CREATECONSUMER', intake, 'pump', 'dead-empty');
    const { runs, handler } = ran();
    queue().process(handler, { concurrency: 1 });
    await waitFor(() => runs.length === 1, 5000, 'the orphaned entry to be taken over and run');
    await waitFor(async () => (await consumers()).every((consumer) => !consumer.name.startsWith('dead')), 5000, 'the dead pumps to be forgotten');
    expect(await consumers()).toEqual([expect.objectContaining({ pending: 0 })]);
  });

  it('lets a worker stop while Redis cannot be reached: the pump waiting out the outage gives its read up', async () => {
    // A port nothing listens on: the worker's connections keep reconnecting, their commands queued.
    const worker = bullQueue(`${filePrefix}-down`, { url: `redis://127.0.0.1:${await freePort()}` });
    const { runs, handler } = ran();
    worker.process(handler, { concurrency: 1 });
    await sleep(500); // the pump's first command is queued, waiting for a connection
    // ioredis's disconnect() settles nothing queued while reconnecting: the pump's stop waited on it for good.
    expect(await worker.close(60_000)).toEqual({ unfinished: 0 });
    worker.drop?.();
    expect(runs).toEqual([]);
  });

  it('drops an entry that holds no job, with a warning, and moves the jobs around it', async () => {
    const { queue, admit, intake } = setup();
    const ingress = queue();
    await admit(ingress, 'd1', 'd', 1);
    await redis.admin().xadd(intake, '*', 'job', '{not json');
    await admit(ingress, 'd2', 'd', 2);
    const warnings: string[] = [];
    const { runs, handler } = ran();
    queue().process(handler, { concurrency: 2, logger: { warn: (fields: object, message?: string) => void warnings.push(`${message} ${String((fields as { err?: unknown }).err)}`) } as never });
    await waitFor(() => runs.length === 2, 5000, 'both jobs to run');
    expect(runs).toEqual(['d:1', 'd:2']);
    await waitFor(async () => (await redis.admin().xlen(intake)) === 0, 2000, 'the intake to empty');
    expect(warnings.join('\n')).toMatch(/1 intake entries hold no job; dropped/);
  });

  it('keeps moving when its stream and group are deleted under it (a flush, a Redis back empty), and says that Redis lost its data', async () => {
    const { queue, admit, intake } = setup();
    const ingress = queue();
    const { runs, handler } = ran();
    const warnings: string[] = [];
    queue().process(handler, { concurrency: 2, logger: { warn: (fields: object, message?: string) => void warnings.push(`${message} ${String((fields as { err?: unknown }).err)}`) } as never });
    await admit(ingress, 'e1', 'e', 1);
    await waitFor(() => runs.length === 1, 5000, 'the first job to run');
    await redis.admin().del(intake);
    await admit(ingress, 'e2', 'e', 2);
    await waitFor(() => runs.length === 2, 8000, 'the job admitted after the deletion to run');
    expect(runs).toEqual(['e:1', 'e:2']);
    expect(warnings.join('\n')).toMatch(/consumer group is gone: Redis lost its data/);
  });
});
