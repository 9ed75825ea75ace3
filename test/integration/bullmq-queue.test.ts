/**
 * What only the BullMQ queue does, on a real Redis: several processes (connections) adding and
 * working one queue, the turnstile that keeps each conversation in order across them, stalled-job
 * recovery, and its connections and keys. The JobQueue contract it shares with MemoryQueue is in
 * job-queue.test.ts.
 */
import { Queue, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { BullQueue, BullQueueOptions, Job, RetryOptions } from '../../src/queue/index.js';
import { bullQueue, letter, queueTestKit, type Data } from '../helpers/queue.js';
import { keysWithPrefix, sleep, uniquePrefix, useRedis, waitFor } from './redis-helpers.js';

const filePrefix = uniquePrefix();
const redis = useRedis(filePrefix);
let counter = 0;
const kit = queueTestKit();

/** A fresh prefix per test (all under this file's prefix, so afterAll deletes them). */
function freshPrefix(): string {
  counter++;
  return `${filePrefix}-${counter}`;
}

function queue(options: { prefix?: string; retry?: Partial<RetryOptions> } & Partial<Omit<BullQueueOptions, 'retry'>> = {}): BullQueue<Data> {
  const { prefix, ...rest } = options;
  return kit.track(bullQueue(prefix ?? freshPrefix(), rest), 1000);
}

/** A queue whose producer connection is ready (see "answers at once after construction"). */
async function startQueue(options: Parameters<typeof queue>[0] = {}): Promise<BullQueue<Data>> {
  const q = queue(options);
  await q.counts(); // goes through BullMQ, which waits for the connection
  return q;
}

afterEach(() => kit.cleanup());

describe('BullQueue producers', () => {
  it('concurrent adds of one id (a redelivery racing the original) run it once and report one add', async () => {
    const prefix = freshPrefix();
    const q = queue({ prefix });
    const twin = queue({ prefix }); // another ingress process
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? q : twin).add({ id: 'raced', group: 'g', data: { n: i } })));
    const seen: number[] = [];
    q.process(async (job) => void seen.push(job.data.n), { concurrency: 2 });
    await waitFor(() => seen.length === 1, 3000, 'the job to run');
    await sleep(200);
    expect(seen).toHaveLength(1);
    // The contract: "false when a job with this id is already queued" — only one add may say true.
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("reports as unfinished at close only this process's jobs, not those other workers are running", async () => {
    const prefix = freshPrefix();
    const worker = queue({ prefix });
    const ingress = await startQueue({ prefix }); // a `serve --no-worker` process: it runs no job
    const hold = kit.gate();
    let started = false;
    worker.process(
      async () => {
        started = true;
        await hold.opened;
      },
      { concurrency: 1 },
    );
    await ingress.add({ id: 'long', group: 'g', data: { n: 1 } });
    await waitFor(() => started, 3000, 'the job to start in the worker');
    expect((await ingress.counts()).active).toBe(1);
    expect(await ingress.close(1000)).toEqual({ unfinished: 0 });
    expect(await worker.close(200)).toEqual({ unfinished: 1 });
  });

  it('two replays of one dead letter at once (two operators): one moves it, the other finds it gone, and it runs once', async () => {
    const q = await startQueue({ retry: { attempts: 1 } });
    const runs: number[] = [];
    let fail = true;
    q.process(
      async (job) => {
        runs.push(job.data.n);
        if (fail) throw new Error('boom');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'raced-replay', group: 'g', data: { n: 1 } });
    await waitFor(async () => (await q.deadLetters()).length === 1, 3000, 'the dead letter');
    fail = false;
    const results = await Promise.all([q.replay('raced-replay'), q.replay('raced-replay'), q.replay('raced-replay')]);
    expect(results.filter(Boolean)).toHaveLength(1);
    await waitFor(() => runs.length === 2, 3000, 'the replayed job to run');
    await sleep(300);
    expect(runs).toEqual([1, 1]);
    expect(await q.deadLetters()).toEqual([]);
  });

  it('answers at once after construction: ping, addDeadLetter and replay do not fail while connecting', async () => {
    // `parley dlq replay ID`, /readyz right after start, or a direct-mode failure right after start
    // all use a fresh BullQueue; its producer has no offline queue, so these must wait for the connection.
    await expect(queue().ping()).resolves.toBeUndefined();
    await expect(queue().addDeadLetter(letter('early'))).resolves.toBeUndefined();
    await expect(queue().replay('unknown')).resolves.toBe(false);
    await expect(queue().purge()).resolves.toBe(0);
  });
});

describe('BullQueue order across workers (the turnstile)', () => {
  it('two workers (concurrency 4 each): each conversation in add order, conversations in parallel', async () => {
    const prefix = freshPrefix();
    const first = queue({ prefix });
    const second = queue({ prefix });
    const runs: Array<{ id: string; group: string; n: number; worker: string; start: number; end: number }> = [];
    const handlerFor = (worker: string) => async (job: Job<Data>) => {
      const start = performance.now();
      await sleep(15);
      runs.push({ id: job.id, group: job.group, n: job.data.n, worker, start, end: performance.now() });
    };
    first.process(handlerFor('first'), { concurrency: 4 });
    second.process(handlerFor('second'), { concurrency: 4 });
    const groups = ['conv-a', 'conv-b', 'conv-c'];
    for (let n = 0; n < 10; n++) {
      for (const [g, group] of groups.entries()) {
        // producers alternate too, as two ingress processes would
        await (n % 2 === 0 ? first : second).add({ id: `${group}-${n}`, group, data: { n: g * 100 + n } });
      }
    }
    await waitFor(() => runs.length === 30, 10_000, 'all 30 jobs');
    await sleep(150);
    expect(runs).toHaveLength(30); // each exactly once
    expect(new Set(runs.map((run) => run.id)).size).toBe(30);
    for (const group of groups) {
      const mine = runs.filter((run) => run.group === group).sort((a, b) => a.start - b.start);
      expect(mine.map((run) => run.id)).toEqual(Array.from({ length: 10 }, (_, n) => `${group}-${n}`));
      for (let i = 1; i < mine.length; i++) {
        // strictly one after the other: the next starts only after the previous one ended
        expect((mine[i] as { start: number }).start).toBeGreaterThanOrEqual((mine[i - 1] as { end: number }).end);
      }
    }
    const overlapping = runs.some((a) => runs.some((b) => a.group !== b.group && a.start < b.end && b.start < a.end));
    expect(overlapping).toBe(true);
    expect(new Set(runs.map((run) => run.worker))).toEqual(new Set(['first', 'second']));
  });

  it('a job whose predecessor is retrying waits for it; other conversations do not', async () => {
    const prefix = freshPrefix();
    const first = queue({ prefix, retry: { attempts: 3, backoffMs: 100, maxBackoffMs: 100 } });
    const second = queue({ prefix, retry: { attempts: 3, backoffMs: 100, maxBackoffMs: 100 } });
    const log: string[] = [];
    const elsewhereRan = kit.gate();
    const handler = async (job: Job<Data>) => {
      log.push(`${job.id}#${job.attempt}`);
      if (job.id === 'elsewhere') elsewhereRan.open();
      // Its second try ends only once the other conversation's job has run: were that job held
      // behind this conversation's retries, it never would (and "six runs" would not come).
      if (job.id === 'first' && job.attempt === 2) await elsewhereRan.opened;
      if (job.id === 'first' && job.attempt < 3) throw new Error('transient');
    };
    first.process(handler, { concurrency: 4 });
    second.process(handler, { concurrency: 4 });
    await first.add({ id: 'first', group: 'g', data: { n: 1 } });
    await second.add({ id: 'second', group: 'g', data: { n: 2 } });
    await first.add({ id: 'third', group: 'g', data: { n: 3 } });
    await second.add({ id: 'elsewhere', group: 'h', data: { n: 4 } });
    await waitFor(() => log.length === 6, 5000, 'six runs');
    await sleep(150);
    expect(log.filter((entry) => !entry.startsWith('elsewhere'))).toEqual(['first#1', 'first#2', 'first#3', 'second#1', 'third#1']);
    expect(log.indexOf('elsewhere#1')).toBeLessThan(log.indexOf('first#3'));
  });

  it('a job parked behind its conversation is woken when the job ahead leaves, ahead of a backlog, with no polling', async () => {
    // turnPollMs of a minute: only the wake can bring the parked job back within this test.
    const q = queue({ turnPollMs: 60_000 });
    const ahead = kit.gate();
    const started: string[] = [];
    q.process(
      async (job) => {
        started.push(job.id);
        if (job.id === 'ahead') await ahead.opened;
        else await sleep(10);
      },
      { concurrency: 2 },
    );
    await q.add({ id: 'ahead', group: 'g', data: { n: 1 } });
    await q.add({ id: 'follow-up', group: 'g', data: { n: 2 } });
    for (let n = 0; n < 40; n++) await q.add({ id: `other-${n}`, group: `o${n}`, data: { n } });
    // The follow-up reached a worker, found its conversation busy and parked; the backlog flows past it.
    await waitFor(() => started.includes('other-5'), 5000, 'the backlog to start flowing');
    expect(started).not.toContain('follow-up');
    ahead.open();
    await waitFor(() => started.includes('follow-up'), 5000, 'the parked follow-up to run');
    const position = started.indexOf('follow-up');
    const othersBefore = started.slice(0, position).filter((id) => id.startsWith('other-')).length;
    // Woken to the front of the queue: at most the jobs already taken meanwhile run before it, not the rest of the backlog.
    expect(othersBefore).toBeLessThan(30);
    await waitFor(() => started.length === 42, 5000, 'every job');
    expect(new Set(started).size).toBe(42);
  });

  it('a conversation whose head job was removed from the queue is not blocked (turnstile sweep)', async () => {
    const prefix = freshPrefix();
    const q = queue({ prefix });
    await q.add({ id: 'lost', group: 'g', data: { n: 1 } });
    await q.add({ id: 'next', group: 'g', data: { n: 2 } });
    // Someone removes the head job (an operator, an eviction): it will never leave the turnstile itself.
    const raw = new Queue('messages', { connection: { host: '127.0.0.1', port: 6379 }, prefix });
    try {
      await raw.remove('lost');
    } finally {
      await raw.close();
    }
    const seen: string[] = [];
    q.process(async (job) => void seen.push(job.id), { concurrency: 2 });
    await waitFor(() => seen.length === 1, 3000, 'the next job to run');
    expect(seen).toEqual(['next']);
    await waitFor(async () => (await redis.admin().exists(`${prefix}:turn:g`)) === 0, 3000, 'the turnstile to empty');
  });

  it('a conversation whose turnstile names a job that never reached the queue is not blocked', async () => {
    const prefix = freshPrefix();
    const q = queue({ prefix });
    // a ghost ahead of everyone: a producer that died between entering the turnstile and adding the job
    await redis.admin().zadd(`${prefix}:turn:g`, 0, 'ghost');
    const seen: string[] = [];
    q.process(async (job) => void seen.push(job.id), { concurrency: 2 });
    await q.add({ id: 'real', group: 'g', data: { n: 1 } });
    await waitFor(() => seen.length === 1, 3000, 'the real job to run');
    expect(seen).toEqual(['real']);
    expect(await redis.admin().zscore(`${prefix}:turn:g`, 'ghost')).toBeNull();
  });
});

describe('BullQueue workers, connections and keys', () => {
  /** A worker process that takes one job and dies holding it (no lock renewals, nothing recorded). */
  async function dieHolding(prefix: string): Promise<void> {
    const picked = kit.gate();
    const dying = new Worker('messages', () => (picked.open(), new Promise<never>(() => undefined)), {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix,
      // as a BullQueue worker with lockDurationMs 500 is configured (the stalled check runs at most
      // once per interval across all workers, so the dying one must not claim a longer one)
      lockDuration: 500,
      stalledInterval: 500,
    });
    dying.on('error', () => undefined);
    await picked.opened;
    await dying.close(true);
  }

  it('a job whose worker died is recovered by another worker, in its turn, without spending an attempt', async () => {
    const prefix = freshPrefix();
    const producer = await startQueue({ prefix });
    await producer.add({ id: 'orphan', group: 'g', data: { n: 1 } });
    await producer.add({ id: 'behind', group: 'g', data: { n: 2 } });
    await dieHolding(prefix); // a worker process takes the first job and dies
    const runs: string[] = [];
    const survivor = queue({ prefix, lockDurationMs: 500 });
    survivor.process(async (job) => void runs.push(`${job.id}#${job.attempt}`), { concurrency: 2 });
    await waitFor(() => runs.length === 2, 6000, 'the orphaned job to be recovered');
    expect(runs).toEqual(['orphan#1', 'behind#1']);
  });

  it('a job recovered from a worker that died is marked redelivered (its reply may be out: the AI is not asked again); a first run is not', async () => {
    const prefix = freshPrefix();
    const producer = await startQueue({ prefix });
    await producer.add({ id: 'orphan', group: 'g', data: { n: 1 } });
    await producer.add({ id: 'fresh', group: 'g2', data: { n: 2 } });
    await dieHolding(prefix);
    const runs: string[] = [];
    const survivor = queue({ prefix, lockDurationMs: 500 });
    survivor.process(async (job) => void runs.push(`${job.id}#${job.attempt}:${job.redelivered === true}`), { concurrency: 2 });
    await waitFor(() => runs.length === 2, 6000, 'the orphaned job to be recovered');
    expect(runs.sort()).toEqual(['fresh#1:false', 'orphan#1:true']);
  });

  it('a last failure leaves its conversation\'s line only once BullMQ has recorded it: a process that dies right after leaving loses no dead letter', async () => {
    const prefix = freshPrefix();
    const producer = await startQueue({ prefix, retry: { attempts: 1 } });
    await producer.add({ id: 'doomed', group: 'g', data: { n: 1 } });
    // A lock long enough that a loaded machine cannot let it lapse while the job runs (the survivor
    // would then take the job over and answer it): only the death below hands it on.
    const first = queue({ prefix, lockDurationMs: 2000 });
    const runs: string[] = [];
    first.process(
      async (job) => {
        runs.push(`${job.id}#${job.attempt}`);
        throw new Error('the AI is down');
      },
      { concurrency: 1 },
    );
    // The process dies the moment its job has left the line (the turnstile's leave script answered).
    const connection = (first as unknown as { workerConnection: { sendCommand(command: { name: string; args: unknown[]; promise: Promise<unknown> }): unknown; disconnect(): void } }).workerConnection;
    const send = connection.sendCommand.bind(connection);
    connection.sendCommand = (command) => {
      const sent = send(command);
      const leaving = command.name.startsWith('eval') && command.args.some((arg) => String(arg).includes('-parked:'));
      if (leaving) void command.promise.finally(() => connection.disconnect());
      return sent;
    };
    await waitFor(() => runs.length === 1, 3000, 'the first run'); // the first worker, not the survivor, takes the job
    const survivor = queue({ prefix, lockDurationMs: 500 });
    survivor.process(async (job) => void runs.push(`${job.id}#${job.attempt}`), { concurrency: 1 });
    await waitFor(async () => (await survivor.deadLetters()).length === 1, 8000, 'the job to be dead-lettered');
    expect((await survivor.deadLetters())[0]).toMatchObject({ id: 'doomed', error: expect.stringContaining('the AI is down') });
    expect(runs).toEqual(['doomed#1']);
  });

  it('a job its workers died under twice is given up by BullMQ: the worker hears of it (apology), and its conversation goes on at once', async () => {
    const prefix = freshPrefix();
    const producer = await startQueue({ prefix });
    await producer.add({ id: 'cursed', group: 'g', data: { n: 1 } });
    await dieHolding(prefix); // takes it from the wait list
    await dieHolding(prefix); // recovers it (its stalled check), takes it again
    await producer.add({ id: 'next', group: 'g', data: { n: 2 } });
    const abandoned: string[] = [];
    const runs: string[] = [];
    const survivor = queue({ prefix, lockDurationMs: 500, turnPollMs: 60_000 });
    survivor.process(async (job) => void runs.push(job.id), {
      concurrency: 2,
      onAbandoned: async (job, reason) => void abandoned.push(`${job.id}:${reason}:${job.group}:${job.data.n}`),
    });
    await waitFor(() => runs.includes('next'), 8000, 'the next message of the conversation');
    expect(abandoned).toEqual(['cursed:stalled:g:1']);
    expect(runs).toEqual(['next']);
  });

  it('a replayed dead letter runs again in its turn and leaves no entering marker behind', async () => {
    const prefix = freshPrefix();
    const q = await startQueue({ prefix, retry: { attempts: 1 } });
    let fail = true;
    const runs: string[] = [];
    q.process(
      async (job) => {
        runs.push(job.id);
        if (fail) throw new Error('the AI is down');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'replayed', group: 'g', data: { n: 1 } });
    await waitFor(async () => (await q.deadLetters()).length === 1, 3000, 'the dead letter');
    fail = false;
    expect(await q.replay('replayed')).toBe(true);
    await waitFor(() => runs.length === 2, 3000, 'the replayed run');
    expect((await keysWithPrefix(redis.admin(), prefix)).filter((key) => key.includes('-entering:'))).toEqual([]);
  });

  it('lists dead letters oldest failure first, so replaying all keeps each conversation in order', async () => {
    const q = await startQueue({ retry: { attempts: 1 } });
    q.process(async () => {
      throw new Error('the AI is down');
    }, { concurrency: 1 });
    for (const n of [1, 2, 3]) {
      await q.add({ id: `m${n}`, group: 'g', data: { n } });
      await waitFor(async () => (await q.deadLetters()).length === n, 3000, `dead letter ${n}`);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct failure times
    }
    // A direct-mode letter (its own hash) that failed between them sorts in too.
    const m1 = (await q.deadLetters()).find((l) => l.id === 'm1')!;
    await q.addDeadLetter({ ...m1, id: 'direct', failedAt: new Date(Date.parse(m1.failedAt) + 1).toISOString() });
    expect((await q.deadLetters()).map((l) => l.id)).toEqual(['m1', 'direct', 'm2', 'm3']);
  });

  it('leaves no connection of its own open after close', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
    await sleep(100);
    const before = sockets();
    const q = queue();
    q.process(async () => undefined, { concurrency: 1 });
    await q.add({ id: 'one', group: 'g', data: { n: 0 } });
    await waitFor(async () => (await q.counts()).waiting + (await q.counts()).active === 0, 3000, 'the job to run');
    expect(sockets()).toBeGreaterThan(before);
    await q.close(1000);
    await sleep(200);
    // a `parley worker` that closes its queue on SIGTERM must be able to exit by itself
    expect(sockets()).toBe(before);
  });

  it('keeps its keys under its prefix', async () => {
    const prefix = freshPrefix();
    const q = await startQueue({ prefix });
    q.process(async () => undefined, { concurrency: 1 });
    await q.add({ id: 'k', group: 'g', data: { n: 0 } });
    await q.addDeadLetter(letter('d'));
    const keys = await keysWithPrefix(redis.admin(), prefix);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((key) => key.startsWith(`${prefix}:`))).toBe(true);
  });
});
