/**
 * The JobQueue contract on BullMQ and a real Redis: the same semantics as MemoryQueue — per-group
 * order across worker processes, retries with backoff, deferrals that spend no attempt, dead
 * letters with replay and purge, graceful close.
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryAfterError } from '../../src/adapter.js';
import { BullQueue, type BullQueueOptions, type DeadLetter, type Job, type RetryOptions } from '../../src/queue/index.js';
import { REDIS_URL, deleteKeys, keysWithPrefix, requireRedis, sleep, uniquePrefix, waitFor } from './redis-helpers.js';

type Data = { n: number };

const filePrefix = uniquePrefix();
let admin: Redis;
let counter = 0;
const open: BullQueue<Data>[] = [];
const gates: Array<() => void> = [];

/** A fresh prefix per test (all under this file's prefix, so afterAll deletes them). */
function freshPrefix(): string {
  counter++;
  return `${filePrefix}-${counter}`;
}

function queue(options: { prefix?: string; retry?: Partial<RetryOptions> } & Partial<Omit<BullQueueOptions, 'retry'>> = {}): BullQueue<Data> {
  const { retry, prefix, ...rest } = options;
  const q = new BullQueue<Data>({
    url: REDIS_URL,
    prefix: prefix ?? freshPrefix(),
    retry: { attempts: 3, backoffMs: 20, maxBackoffMs: 200, ...retry },
    lockDurationMs: 2000,
    turnPollMs: 50,
    ...rest,
  });
  open.push(q);
  return q;
}

/**
 * A queue whose producer connection is ready. A BullQueue's own commands (ping, dead letters
 * recorded in direct mode, replay) fail while its connection is still connecting — see the test
 * "answers at once after construction" — so the other tests wait for the connection first.
 */
async function startQueue(options: Parameters<typeof queue>[0] = {}): Promise<BullQueue<Data>> {
  const q = queue(options);
  await q.counts(); // goes through BullMQ, which waits for the connection
  return q;
}

/** Holds a job "running" until the test opens it; every gate is opened after each test. */
function gate() {
  let release!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  gates.push(release);
  return { open: release, opened };
}

function letter(id: string, overrides: Partial<DeadLetter<Data>> = {}): DeadLetter<Data> {
  return { id, group: 'g', data: { n: 0 }, error: 'Error: direct failure', reason: 'direct_failed', attempts: 1, failedAt: new Date().toISOString(), ...overrides };
}

beforeAll(async () => {
  admin = await requireRedis();
});

afterEach(async () => {
  for (const release of gates.splice(0)) release();
  await Promise.all(open.splice(0).map((q) => q.close(1000)));
});

afterAll(async () => {
  if (!admin) return;
  await deleteKeys(admin, filePrefix);
  admin.disconnect();
});

describe('BullQueue add and process', () => {
  it('runs the handler with the job: id, group, data, attempt 1 and maxAttempts', async () => {
    const q = queue();
    expect(await q.add({ id: 'j1', group: 'conv-1', data: { n: 1 } })).toBe(true);
    const seen: Job<Data>[] = [];
    q.process(async (job) => void seen.push(job), { concurrency: 1 });
    await waitFor(() => seen.length === 1, 3000, 'the job to run');
    expect(seen[0]).toEqual({ id: 'j1', group: 'conv-1', data: { n: 1 }, attempt: 1, maxAttempts: 3 });
    await waitFor(async () => (await q.counts()).active === 0, 3000, 'the job to complete');
    expect(await q.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it('ignores an id that is already queued or running: add returns false and the job runs once', async () => {
    const q = queue();
    expect(await q.add({ id: 'same', group: 'g', data: { n: 1 } })).toBe(true);
    expect(await q.add({ id: 'same', group: 'g', data: { n: 2 } })).toBe(false);
    expect(await q.add({ id: 'same', group: 'other', data: { n: 3 } })).toBe(false);
    const hold = gate();
    const seen: number[] = [];
    q.process(
      async (job) => {
        seen.push(job.data.n);
        await hold.opened;
      },
      { concurrency: 2 },
    );
    await waitFor(() => seen.length === 1, 3000, 'the job to start');
    expect(await q.add({ id: 'same', group: 'g', data: { n: 4 } })).toBe(false); // running
    hold.open();
    await waitFor(async () => (await q.counts()).active === 0, 3000, 'the job to complete');
    await sleep(150);
    expect(seen).toEqual([1]);
  });

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

  it('holds jobs added before process() and counts them as waiting', async () => {
    const q = queue();
    await q.add({ id: 'a', group: 'g', data: { n: 1 } });
    await q.add({ id: 'b', group: 'h', data: { n: 2 } });
    expect(await q.counts()).toEqual({ waiting: 2, active: 0, delayed: 0, dead: 0 });
    const seen: string[] = [];
    q.process(async (job) => void seen.push(job.id), { concurrency: 2 });
    await waitFor(() => seen.length === 2, 3000, 'both jobs to run');
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('counts active, waiting, delayed and dead jobs', async () => {
    const q = queue({ retry: { attempts: 2, backoffMs: 2000, maxBackoffMs: 2000 } });
    const hold = gate();
    const started: string[] = [];
    q.process(
      async (job) => {
        started.push(job.id);
        if (job.id === 'busy') await hold.opened;
        if (job.id === 'flaky') throw new Error('transient');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'busy', group: 'g1', data: { n: 0 } });
    await waitFor(() => started.length === 1, 3000, 'the busy job to start');
    await q.add({ id: 'next-1', group: 'g2', data: { n: 0 } });
    await q.add({ id: 'next-2', group: 'g3', data: { n: 0 } });
    await q.addDeadLetter(letter('direct'));
    expect(await q.counts()).toEqual({ waiting: 2, active: 1, delayed: 0, dead: 1 });
    hold.open();
    await waitFor(() => started.length === 3, 3000, 'the other jobs to run');
    await q.add({ id: 'flaky', group: 'g4', data: { n: 0 } });
    await waitFor(async () => (await q.counts()).delayed === 1, 3000, 'the flaky job to wait for its retry');
    expect(await q.counts()).toEqual({ waiting: 0, active: 0, delayed: 1, dead: 1 });
  });

  it('ping answers while open, and fails once closed', async () => {
    const q = await startQueue();
    await expect(q.ping()).resolves.toBeUndefined();
    await q.close(100);
    await expect(q.ping()).rejects.toThrow();
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

describe('BullQueue retries and dead letters', () => {
  it('retries a failing job with increasing attempt numbers until it succeeds', async () => {
    const q = queue({ retry: { attempts: 4 } });
    const attempts: number[] = [];
    q.process(
      async (job) => {
        attempts.push(job.attempt);
        expect(job.maxAttempts).toBe(4);
        if (job.attempt < 3) throw new Error(`fail ${job.attempt}`);
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'r', group: 'g', data: { n: 1 } });
    await waitFor(() => attempts.length === 3, 3000, 'three tries');
    await sleep(150);
    expect(attempts).toEqual([1, 2, 3]);
    expect(await q.deadLetters()).toEqual([]);
    expect(await q.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it('waits the backoff between tries', async () => {
    const q = queue({ retry: { attempts: 2, backoffMs: 200, maxBackoffMs: 200 } });
    const times: number[] = [];
    q.process(
      async () => {
        times.push(performance.now());
        throw new Error('down');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'slowly', group: 'g', data: { n: 1 } });
    await waitFor(() => times.length === 2, 3000, 'the retry');
    const gap = (times[1] as number) - (times[0] as number);
    expect(gap).toBeGreaterThanOrEqual(95); // equal jitter: at least half of 200 ms
    expect(gap).toBeLessThan(1500);
  });

  it('dead-letters a job whose attempts are exhausted: one letter, with the reason and the error', async () => {
    const q = queue({ retry: { attempts: 3 } });
    let calls = 0;
    q.process(
      async () => {
        calls++;
        throw new Error(`boom ${calls}`);
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'doomed', group: 'conv-1', data: { n: 7 } });
    await waitFor(async () => (await q.deadLetters()).length === 1, 3000, 'the dead letter');
    await sleep(100);
    expect(calls).toBe(3);
    const letters = await q.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ id: 'doomed', group: 'conv-1', data: { n: 7 }, reason: 'attempts_exhausted', attempts: 3 });
    expect(letters[0]?.error).toContain('boom 3');
    expect(Number.isNaN(Date.parse(letters[0]?.failedAt ?? ''))).toBe(false);
    expect(await q.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 1 });
  });

  it('records the error of an exhausted job as "Name: message", like MemoryQueue and its own PermanentError letters', async () => {
    const q = queue({ retry: { attempts: 1 } });
    q.process(
      async () => {
        throw new TypeError('fetch failed');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'typed', group: 'g', data: { n: 1 } });
    await waitFor(async () => (await q.deadLetters()).length === 1, 3000, 'the dead letter');
    const [dead] = await q.deadLetters();
    // MemoryQueue stores errorText(error) = "TypeError: fetch failed"; the error's name is what
    // tells an operator an AbortError from a TypeError in `parley dlq show`.
    expect(dead?.error).toBe('TypeError: fetch failed');
  });

  it('dead-letters a PermanentError at once, with its reason, and moves on to the next job of the group', async () => {
    const q = queue({ retry: { attempts: 5 } });
    const seen: string[] = [];
    q.process(
      async (job) => {
        seen.push(`${job.id}#${job.attempt}`);
        if (job.id === 'bad') throw new PermanentError('outside the 24 h window', 'outside_window');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'bad', group: 'g', data: { n: 1 } });
    await q.add({ id: 'good', group: 'g', data: { n: 2 } });
    await waitFor(() => seen.length === 2, 3000, 'both jobs');
    await sleep(150);
    expect(seen).toEqual(['bad#1', 'good#1']);
    const letters = await q.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ id: 'bad', group: 'g', data: { n: 1 }, reason: 'outside_window', attempts: 1, error: 'PermanentError: outside the 24 h window' });
  });

  it('a RetryAfterError waits about retryAfterMs and spends no attempt', async () => {
    // One attempt only: if a deferral spent it, the job would be dead-lettered instead of run again.
    const q = queue({ retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 5000 } });
    const runs: Array<{ attempt: number; at: number }> = [];
    q.process(
      async (job) => {
        runs.push({ attempt: job.attempt, at: performance.now() });
        if (runs.length <= 2) throw new RetryAfterError('429 from the platform', 300);
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'limited', group: 'g', data: { n: 1 } });
    await waitFor(() => runs.length === 3, 4000, 'three runs');
    expect(runs.map((run) => run.attempt)).toEqual([1, 1, 1]);
    for (const i of [1, 2]) {
      const gap = (runs[i] as { at: number }).at - (runs[i - 1] as { at: number }).at;
      expect(gap).toBeGreaterThanOrEqual(280);
      expect(gap).toBeLessThan(1500);
    }
    await sleep(100);
    expect(await q.deadLetters()).toEqual([]);
  });

  it('a RetryAfterError asking for longer than maxBackoffMs waits maxBackoffMs', async () => {
    const q = queue({ retry: { attempts: 2, backoffMs: 1, maxBackoffMs: 200 } });
    const times: number[] = [];
    q.process(
      async () => {
        times.push(performance.now());
        if (times.length === 1) throw new RetryAfterError('retry in an hour', 3_600_000);
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'capped', group: 'g', data: { n: 1 } });
    await waitFor(() => times.length === 2, 3000, 'the capped retry');
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(180);
  });

  it('replays a dead letter with fresh attempts and removes it from the dead letters', async () => {
    const q = queue({ retry: { attempts: 2 } });
    let healthy = false;
    const seen: Array<{ id: string; attempt: number; n: number }> = [];
    q.process(
      async (job) => {
        seen.push({ id: job.id, attempt: job.attempt, n: job.data.n });
        if (!healthy) throw new Error('down');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'again', group: 'g', data: { n: 3 } });
    await waitFor(async () => (await q.deadLetters()).length === 1, 3000, 'the dead letter');
    expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
    healthy = true;
    expect(await q.replay('again')).toBe(true);
    await waitFor(() => seen.length === 3, 3000, 'the replayed run');
    expect(seen[2]).toEqual({ id: 'again', attempt: 1, n: 3 });
    await waitFor(async () => (await q.counts()).active === 0, 3000, 'the replay to complete');
    expect(await q.deadLetters()).toEqual([]);
    expect((await q.counts()).dead).toBe(0);
    expect(await q.replay('again')).toBe(false); // completed, no longer a dead letter
  });

  it('a replayed PermanentError letter gets fresh attempts and loses its old reason', async () => {
    const q = queue({ retry: { attempts: 2 } });
    const seen: string[] = [];
    q.process(
      async (job) => {
        seen.push(`#${job.attempt}`);
        if (seen.length === 1) throw new PermanentError('blocked by the platform', 'blocked');
        throw new Error('still failing');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'p', group: 'g', data: { n: 1 } });
    await waitFor(async () => (await q.deadLetters()).length === 1, 3000, 'the permanent dead letter');
    expect((await q.deadLetters())[0]).toMatchObject({ reason: 'blocked', attempts: 1 });
    expect(await q.replay('p')).toBe(true);
    await waitFor(async () => (await q.deadLetters()).length === 1 && seen.length === 3, 3000, 'the replay to be dead-lettered again');
    expect(seen).toEqual(['#1', '#1', '#2']);
    expect((await q.deadLetters())[0]).toMatchObject({ id: 'p', reason: 'attempts_exhausted', attempts: 2 });
  });

  it('replay of an unknown, running or completed id is false', async () => {
    const q = await startQueue();
    const hold = gate();
    const done: string[] = [];
    q.process(
      async (job) => {
        if (job.id === 'running') await hold.opened;
        done.push(job.id);
      },
      { concurrency: 2 },
    );
    expect(await q.replay('never-existed')).toBe(false);
    await q.add({ id: 'finished', group: 'g1', data: { n: 0 } });
    await q.add({ id: 'running', group: 'g2', data: { n: 0 } });
    await waitFor(async () => done.includes('finished') && (await q.counts()).active === 1, 3000, 'one done, one running');
    expect(await q.replay('finished')).toBe(false);
    expect(await q.replay('running')).toBe(false);
    hold.open();
    await waitFor(() => done.length === 2, 3000, 'the running job to finish');
    await sleep(100);
    expect(done).toEqual(['finished', 'running']);
  });

  it('keeps dead letters recorded outside a worker (direct mode), and replays them', async () => {
    const q = await startQueue();
    const direct = letter('direct-1', { group: 'conv-9', data: { n: 9 } });
    await q.addDeadLetter(direct);
    expect(await q.deadLetters()).toEqual([direct]);
    expect((await q.counts()).dead).toBe(1);
    const seen: Job<Data>[] = [];
    q.process(async (job) => void seen.push(job), { concurrency: 1 });
    expect(await q.replay('direct-1')).toBe(true);
    await waitFor(() => seen.length === 1, 3000, 'the replayed direct letter');
    expect(seen[0]).toEqual({ id: 'direct-1', group: 'conv-9', data: { n: 9 }, attempt: 1, maxAttempts: 3 });
    expect(await q.deadLetters()).toEqual([]);
    expect(await q.replay('direct-1')).toBe(false);
  });

  it('lists worker and direct dead letters together; purge drops them all and says how many', async () => {
    const q = await startQueue({ retry: { attempts: 1 } });
    q.process(
      async () => {
        throw new Error('nope');
      },
      { concurrency: 2 },
    );
    await q.add({ id: 'w1', group: 'g1', data: { n: 1 } });
    await q.add({ id: 'w2', group: 'g2', data: { n: 2 } });
    await q.addDeadLetter(letter('d1'));
    await q.addDeadLetter(letter('d2'));
    await waitFor(async () => (await q.deadLetters()).length === 4, 3000, 'four dead letters');
    expect((await q.deadLetters()).map((l) => l.id).sort()).toEqual(['d1', 'd2', 'w1', 'w2']);
    expect((await q.counts()).dead).toBe(4);
    expect(await q.purge()).toBe(4);
    expect(await q.deadLetters()).toEqual([]);
    expect((await q.counts()).dead).toBe(0);
    expect(await q.purge()).toBe(0);
    expect(await q.replay('w1')).toBe(false);
  });
});

describe('BullQueue ordering across workers', () => {
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
    const handler = async (job: Job<Data>) => {
      log.push(`${job.id}#${job.attempt}`);
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

  it('a dead-lettered predecessor does not block its conversation', async () => {
    const q = queue({ retry: { attempts: 2 } });
    const log: string[] = [];
    q.process(
      async (job) => {
        log.push(`${job.id}#${job.attempt}`);
        if (job.id === 'doomed') throw new Error('always');
      },
      { concurrency: 4 },
    );
    await q.add({ id: 'doomed', group: 'g', data: { n: 1 } });
    await q.add({ id: 'after', group: 'g', data: { n: 2 } });
    await waitFor(() => log.length === 3, 3000, 'three runs');
    expect(log).toEqual(['doomed#1', 'doomed#2', 'after#1']);
  });

  it('a busy conversation does not hold up the others', async () => {
    const q = queue();
    const slow = gate();
    const done: string[] = [];
    q.process(
      async (job) => {
        if (job.id === 'slow') await slow.opened;
        done.push(job.id);
      },
      { concurrency: 2 },
    );
    await q.add({ id: 'slow', group: 'busy', data: { n: 0 } });
    await q.add({ id: 'busy-2', group: 'busy', data: { n: 0 } });
    for (let i = 1; i <= 3; i++) await q.add({ id: `other-${i}`, group: 'other', data: { n: i } });
    await waitFor(() => done.length === 3, 3000, 'the other conversation');
    expect(done).toEqual(['other-1', 'other-2', 'other-3']);
    slow.open();
    await waitFor(() => done.length === 5, 3000, 'the busy conversation');
    expect(done.slice(3)).toEqual(['slow', 'busy-2']);
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
    await waitFor(async () => (await admin.exists(`${prefix}:turn:g`)) === 0, 3000, 'the turnstile to empty');
  });

  it('a conversation whose turnstile names a job that never reached the queue is not blocked', async () => {
    const prefix = freshPrefix();
    const q = queue({ prefix });
    // a ghost ahead of everyone: a producer that died between entering the turnstile and adding the job
    await admin.zadd(`${prefix}:turn:g`, 0, 'ghost');
    const seen: string[] = [];
    q.process(async (job) => void seen.push(job.id), { concurrency: 2 });
    await q.add({ id: 'real', group: 'g', data: { n: 1 } });
    await waitFor(() => seen.length === 1, 3000, 'the real job to run');
    expect(seen).toEqual(['real']);
    expect(await admin.zscore(`${prefix}:turn:g`, 'ghost')).toBeNull();
  });
});

describe('BullQueue close', () => {
  it('lets a running job finish before it resolves', async () => {
    const q = queue();
    let started = false;
    let finished = false;
    q.process(
      async () => {
        started = true;
        await sleep(300);
        finished = true;
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'long', group: 'g', data: { n: 0 } });
    await waitFor(() => started, 3000, 'the job to start');
    const result = await q.close(5000);
    expect(finished).toBe(true);
    expect(result).toEqual({ unfinished: 0 });
  });

  it('returns at the deadline when a job is stuck, reporting it unfinished', async () => {
    const q = await startQueue();
    const hold = gate();
    let started = false;
    q.process(
      async () => {
        started = true;
        await hold.opened; // an AI call that hangs past the shutdown deadline
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'stuck', group: 'g', data: { n: 0 } });
    await waitFor(() => started, 3000, 'the job to start');
    const began = performance.now();
    const outcome = await Promise.race([q.close(200), sleep(2000).then(() => 'still waiting after 2 s' as const)]);
    // SIGTERM must not hang: past the deadline the job is left to stalled-job recovery.
    expect(outcome).toEqual({ unfinished: 1 });
    expect(performance.now() - began).toBeLessThan(1500);
  });

  it('a job whose worker died is recovered by another worker, in its turn, without spending an attempt', async () => {
    const prefix = freshPrefix();
    const producer = await startQueue({ prefix });
    await producer.add({ id: 'orphan', group: 'g', data: { n: 1 } });
    await producer.add({ id: 'behind', group: 'g', data: { n: 2 } });
    // A worker process takes the first job and dies (no more lock renewals, nothing finished).
    const picked = gate();
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
    const runs: string[] = [];
    const survivor = queue({ prefix, lockDurationMs: 500 });
    survivor.process(async (job) => void runs.push(`${job.id}#${job.attempt}`), { concurrency: 2 });
    await waitFor(() => runs.length === 2, 6000, 'the orphaned job to be recovered');
    expect(runs).toEqual(['orphan#1', 'behind#1']);
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
    const keys = await keysWithPrefix(admin, prefix);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((key) => key.startsWith(`${prefix}:`))).toBe(true);
  });
});
