import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryAfterError } from '../../src/adapter.js';
import { MemoryQueue, QueueClosedError, type Job, type RetryOptions } from '../../src/queue/index.js';
import { sleep, waitFor } from './helpers.js';

type Data = { n: number };

const queues: MemoryQueue<Data>[] = [];
function queue(retry: Partial<RetryOptions> = {}): MemoryQueue<Data> {
  const q = new MemoryQueue<Data>({ attempts: 3, backoffMs: 5, maxBackoffMs: 50, ...retry });
  queues.push(q);
  return q;
}
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close(0)));
});

/** A promise you resolve from outside: holds a job "running" until the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('MemoryQueue ordering and concurrency', () => {
  it('runs the jobs of one group one at a time, in the order they were added', async () => {
    const q = queue();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    q.process(
      async (job) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        log.push(`start ${job.id}`);
        await sleep(3);
        log.push(`end ${job.id}`);
        running--;
      },
      { concurrency: 4 },
    );
    for (let i = 1; i <= 5; i++) await q.add({ id: `j${i}`, group: 'g', data: { n: i } });
    await waitFor(() => log.length === 10);
    expect(maxRunning).toBe(1);
    expect(log).toEqual(['j1', 'j2', 'j3', 'j4', 'j5'].flatMap((id) => [`start ${id}`, `end ${id}`]));
  });

  it('runs different groups in parallel, never more than the concurrency', async () => {
    const q = queue();
    const gates = new Map<string, ReturnType<typeof gate>>();
    const started: string[] = [];
    q.process(
      async (job) => {
        started.push(job.id);
        const g = gate();
        gates.set(job.id, g);
        await g.opened;
      },
      { concurrency: 2 },
    );
    for (const id of ['a', 'b', 'c', 'd']) await q.add({ id, group: id, data: { n: 0 } });
    await waitFor(() => started.length === 2);
    await sleep(20);
    expect(started).toEqual(['a', 'b']);
    expect((await q.counts()).active).toBe(2);
    expect((await q.counts()).waiting).toBe(2);
    gates.get('a')?.open();
    await waitFor(() => started.length === 3);
    await sleep(10);
    expect(started).toEqual(['a', 'b', 'c']);
    gates.get('b')?.open();
    gates.get('c')?.open();
    await waitFor(() => started.length === 4);
    gates.get('d')?.open();
    await waitFor(async () => (await q.counts()).active === 0);
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
    await waitFor(() => done.length === 3);
    expect(done).toEqual(['other-1', 'other-2', 'other-3']);
    slow.open();
    await waitFor(() => done.length === 5);
    expect(done.slice(3)).toEqual(['slow', 'busy-2']);
  });

  it('holds jobs added before process() and starts them when it is called', async () => {
    const q = queue();
    await q.add({ id: 'early', group: 'g', data: { n: 1 } });
    expect(await q.counts()).toEqual({ waiting: 1, active: 0, delayed: 0, dead: 0 });
    const seen: Job<Data>[] = [];
    q.process(async (job) => void seen.push(job), { concurrency: 1 });
    await waitFor(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ id: 'early', group: 'g', data: { n: 1 }, attempt: 1, maxAttempts: 3 });
  });

  it('add() ignores an id that is already queued', async () => {
    const q = queue();
    expect(await q.add({ id: 'same', group: 'g', data: { n: 1 } })).toBe(true);
    expect(await q.add({ id: 'same', group: 'g', data: { n: 2 } })).toBe(false);
    expect(await q.add({ id: 'same', group: 'other', data: { n: 3 } })).toBe(false);
    const seen: number[] = [];
    q.process(async (job) => void seen.push(job.data.n), { concurrency: 2 });
    await waitFor(() => seen.length === 1);
    await sleep(20);
    expect(seen).toEqual([1]);
  });

  it('add() ignores an id that is running or waiting for a retry', async () => {
    const q = queue({ backoffMs: 30, maxBackoffMs: 30 });
    const hold = gate();
    let calls = 0;
    q.process(
      async () => {
        calls++;
        if (calls === 1) {
          await hold.opened;
          throw new Error('first try fails');
        }
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'x', group: 'g', data: { n: 1 } });
    await waitFor(() => calls === 1);
    expect(await q.add({ id: 'x', group: 'g', data: { n: 1 } })).toBe(false);
    hold.open();
    await waitFor(async () => (await q.counts()).delayed === 1);
    expect(await q.add({ id: 'x', group: 'g', data: { n: 1 } })).toBe(false);
    await waitFor(() => calls === 2);
    await sleep(40);
    expect(calls).toBe(2);
  });
});

describe('MemoryQueue retries and dead letters', () => {
  it('retries a failing job with increasing attempt numbers until it succeeds', async () => {
    const q = queue({ attempts: 4 });
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
    await waitFor(() => attempts.length === 3);
    await sleep(30);
    expect(attempts).toEqual([1, 2, 3]);
    expect(await q.deadLetters()).toEqual([]);
    expect(await q.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it('keeps a retrying job ahead of later jobs of its group', async () => {
    const q = queue({ backoffMs: 30, maxBackoffMs: 30 });
    const log: string[] = [];
    q.process(
      async (job) => {
        log.push(`${job.id}#${job.attempt}`);
        if (job.id === 'first' && job.attempt === 1) throw new Error('transient');
      },
      { concurrency: 3 },
    );
    await q.add({ id: 'first', group: 'g', data: { n: 1 } });
    await q.add({ id: 'second', group: 'g', data: { n: 2 } });
    await q.add({ id: 'elsewhere', group: 'h', data: { n: 3 } });
    await waitFor(() => log.length === 4);
    expect(log.filter((entry) => !entry.startsWith('elsewhere'))).toEqual(['first#1', 'first#2', 'second#1']);
    // the other group was not held up by the backoff
    expect(log.indexOf('elsewhere#1')).toBeLessThan(log.indexOf('first#2'));
  });

  it('counts a job waiting for its retry as delayed, and the jobs behind it as waiting', async () => {
    const q = queue({ backoffMs: 200, maxBackoffMs: 200 });
    let calls = 0;
    q.process(
      async () => {
        calls++;
        throw new Error('down');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'a', group: 'g', data: { n: 1 } });
    await q.add({ id: 'b', group: 'g', data: { n: 2 } });
    await waitFor(() => calls === 1);
    await waitFor(async () => (await q.counts()).delayed === 1);
    expect(await q.counts()).toEqual({ waiting: 1, active: 0, delayed: 1, dead: 0 });
  });

  it('waits the backoff between tries', async () => {
    const q = queue({ attempts: 2, backoffMs: 80, maxBackoffMs: 80 });
    const times: number[] = [];
    q.process(
      async () => {
        times.push(performance.now());
        throw new Error('down');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'slowly', group: 'g', data: { n: 1 } });
    await waitFor(() => times.length === 2);
    const gap = (times[1] as number) - (times[0] as number);
    expect(gap).toBeGreaterThanOrEqual(38); // equal jitter: at least half of 80 ms
    expect(gap).toBeLessThan(400);
  });

  it('honours a RetryAfterError that asks for longer than the backoff', async () => {
    const q = queue({ attempts: 2, backoffMs: 1, maxBackoffMs: 1000 });
    const times: number[] = [];
    q.process(
      async (job) => {
        times.push(performance.now());
        if (job.attempt === 1) throw new RetryAfterError('429 from the platform', 150);
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'limited', group: 'g', data: { n: 1 } });
    await waitFor(() => times.length === 2);
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(140);
  });

  it('dead-letters a job whose attempts are exhausted, with everything needed to replay it', async () => {
    const q = queue({ attempts: 3 });
    let calls = 0;
    q.process(
      async () => {
        calls++;
        throw new Error(`boom ${calls}`);
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'doomed', group: 'conv-1', data: { n: 7 } });
    await waitFor(async () => (await q.deadLetters()).length === 1);
    expect(calls).toBe(3);
    const [letter] = await q.deadLetters();
    expect(letter).toMatchObject({
      id: 'doomed',
      group: 'conv-1',
      data: { n: 7 },
      reason: 'attempts_exhausted',
      attempts: 3,
      error: 'Error: boom 3',
    });
    expect(Number.isNaN(Date.parse(letter?.failedAt ?? ''))).toBe(false);
    expect(await q.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 1 });
  });

  it('dead-letters a PermanentError at once, with its reason, and moves on to the next job of the group', async () => {
    const q = queue({ attempts: 5 });
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
    await waitFor(() => seen.length === 2);
    await sleep(30);
    expect(seen).toEqual(['bad#1', 'good#1']);
    const letters = await q.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ id: 'bad', reason: 'outside_window', attempts: 1, error: 'PermanentError: outside the 24 h window' });
  });

  it('replays a dead letter with fresh attempts and removes it from the dead letters', async () => {
    const q = queue({ attempts: 2 });
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
    await waitFor(async () => (await q.deadLetters()).length === 1);
    healthy = true;
    expect(await q.replay('again')).toBe(true);
    await waitFor(() => seen.length === 3);
    expect(seen[2]).toEqual({ id: 'again', attempt: 1, n: 3 });
    expect(await q.deadLetters()).toEqual([]);
    expect(await q.replay('again')).toBe(false);
    expect(await q.replay('never-existed')).toBe(false);
  });

  it('replays a dead letter recorded from outside the worker (direct mode)', async () => {
    const q = queue();
    await q.addDeadLetter({ id: 'direct-1', group: 'g', data: { n: 9 }, error: 'Error: x', reason: 'direct_failed', attempts: 1, failedAt: new Date().toISOString() });
    expect((await q.counts()).dead).toBe(1);
    const seen: number[] = [];
    q.process(async (job) => void seen.push(job.data.n), { concurrency: 1 });
    expect(await q.replay('direct-1')).toBe(true);
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([9]);
  });

  it('purge drops every dead letter and says how many', async () => {
    const q = queue();
    for (const id of ['d1', 'd2', 'd3']) {
      await q.addDeadLetter({ id, group: 'g', data: { n: 0 }, error: 'e', reason: 'r', attempts: 1, failedAt: new Date().toISOString() });
    }
    expect(await q.purge()).toBe(3);
    expect(await q.deadLetters()).toEqual([]);
    expect(await q.purge()).toBe(0);
  });
});

describe('MemoryQueue close', () => {
  it('drains running and waiting jobs, then refuses new ones', async () => {
    const q = queue();
    const done: string[] = [];
    q.process(
      async (job) => {
        await sleep(10);
        done.push(job.id);
      },
      { concurrency: 1 },
    );
    for (const id of ['a', 'b', 'c']) await q.add({ id, group: 'g', data: { n: 0 } });
    const result = await q.close(2000);
    expect(result).toEqual({ unfinished: 0 });
    expect(done).toEqual(['a', 'b', 'c']);
    await expect(q.add({ id: 'late', group: 'g', data: { n: 0 } })).rejects.toBeInstanceOf(QueueClosedError);
    await expect(q.ping()).rejects.toBeInstanceOf(QueueClosedError);
  });

  it('lets a job waiting for its retry finish within the deadline', async () => {
    const q = queue({ backoffMs: 20, maxBackoffMs: 20 });
    const attempts: number[] = [];
    q.process(
      async (job) => {
        attempts.push(job.attempt);
        if (job.attempt === 1) throw new Error('transient');
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'x', group: 'g', data: { n: 0 } });
    await waitFor(() => attempts.length === 1);
    expect(await q.close(2000)).toEqual({ unfinished: 0 });
    expect(attempts).toEqual([1, 2]);
  });

  it('returns at the deadline, reporting the jobs not finished', async () => {
    const q = queue();
    const hold = gate();
    q.process(async () => hold.opened, { concurrency: 1 });
    await q.add({ id: 'stuck', group: 'g', data: { n: 0 } });
    await q.add({ id: 'behind', group: 'g', data: { n: 0 } });
    const started = performance.now();
    const result = await q.close(60);
    const took = performance.now() - started;
    expect(result).toEqual({ unfinished: 2 });
    expect(took).toBeGreaterThanOrEqual(50);
    expect(took).toBeLessThan(1000);
    hold.open();
  });

  it('resolves at once when idle', async () => {
    const q = queue();
    q.process(async () => undefined, { concurrency: 1 });
    const started = performance.now();
    expect(await q.close(5000)).toEqual({ unfinished: 0 });
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('without a worker, reports the queued jobs as unfinished', async () => {
    const q = queue();
    await q.add({ id: 'a', group: 'g', data: { n: 0 } });
    await q.add({ id: 'b', group: 'h', data: { n: 0 } });
    expect(await q.close(1000)).toEqual({ unfinished: 2 });
  });

  it('replaying on a closed queue does not lose the dead letter', async () => {
    const q = queue();
    await q.addDeadLetter({ id: 'keep-me', group: 'g', data: { n: 1 }, error: 'e', reason: 'attempts_exhausted', attempts: 3, failedAt: new Date().toISOString() });
    q.process(async () => undefined, { concurrency: 1 });
    await q.close(100);
    await expect(q.replay('keep-me')).rejects.toBeInstanceOf(QueueClosedError);
    // "Nothing lost": the message must still be in the dead letters when it could not be re-queued.
    expect((await q.deadLetters()).map((letter) => letter.id)).toEqual(['keep-me']);
  });
});
