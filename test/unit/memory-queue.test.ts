/**
 * What only the in-process queue does: its close drains the waiting jobs too (they live in this
 * process) while there is clearly time to finish them, and it counts the jobs behind a retrying one
 * as waiting. The JobQueue contract it shares with BullQueue is in test/integration/job-queue.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryQueue, QueueClosedError, type RetryOptions } from '../../src/queue/index.js';
import { RetryAfterError } from '../../src/errors.js';
import { letter, queueTestKit, testRetry, type Data } from '../helpers/queue.js';
import { sleep, waitFor } from './helpers.js';

const kit = queueTestKit();
function queue(retry: Partial<RetryOptions> = {}): MemoryQueue<Data> {
  return kit.track(new MemoryQueue<Data>({ ...testRetry, ...retry }), 0);
}
afterEach(async () => {
  vi.useRealTimers();
  await kit.cleanup();
});

describe('MemoryQueue counts', () => {
  it('counts a job waiting for its retry as delayed, and the jobs behind it in its group as waiting', async () => {
    // BullQueue counts those jobs as delayed too: they wait for their turn in its delayed set.
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
    await waitFor(async () => calls === 1 && (await q.counts()).delayed === 1);
    expect(await q.counts()).toEqual({ waiting: 1, active: 0, delayed: 1, dead: 0 });
  });
});

describe('MemoryQueue close', () => {
  it('drains the waiting jobs as well as the running one, then refuses new jobs and pings with QueueClosedError', async () => {
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
    expect(await q.close(2000)).toEqual({ unfinished: 0 });
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

  it('resolves exactly at the deadline, counting the waiting jobs behind a stuck one as unfinished', async () => {
    vi.useFakeTimers();
    const q = queue();
    const hold = kit.gate();
    q.process(async () => hold.opened, { concurrency: 1 });
    await q.add({ id: 'stuck', group: 'g', data: { n: 0 } });
    await q.add({ id: 'behind', group: 'g', data: { n: 0 } });
    let result: { unfinished: number } | undefined;
    void q.close(60).then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(59);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toEqual({ unfinished: 2 });
  });

  it('runs nothing more once closed: a job still running at the deadline that then asks to wait is not tried again', async () => {
    vi.useFakeTimers();
    const q = queue();
    const hold = kit.gate();
    let runs = 0;
    q.process(
      async () => {
        runs++;
        await hold.opened;
        throw new RetryAfterError('not started yet', 50);
      },
      { concurrency: 1 },
    );
    await q.add({ id: 'waits', group: 'g', data: { n: 0 } });
    await vi.advanceTimersByTimeAsync(0);
    let result: { unfinished: number } | undefined;
    void q.close(100).then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(100);
    expect(result).toEqual({ unfinished: 1 });
    hold.open(); // the run still under way ends after close() returned, asking to be tried in 50 ms
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toBe(1);
    expect(vi.getTimerCount()).toBe(0); // nothing left to keep a script's process alive
  });

  it('resolves without waiting for the deadline when idle', async () => {
    vi.useFakeTimers();
    const q = queue();
    q.process(async () => undefined, { concurrency: 1 });
    let result: { unfinished: number } | undefined;
    void q.close(5000).then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(0); // the clock does not move: only what is already due runs
    expect(result).toEqual({ unfinished: 0 });
  });

  it('starts a waiting job during the drain only while the slowest recent run fits, with a margin, in the time left', async () => {
    vi.useFakeTimers();
    const q = queue();
    const holds = new Map<string, ReturnType<typeof kit.gate>>();
    const started: string[] = [];
    q.process(
      async (job) => {
        started.push(job.id);
        const hold = kit.gate();
        holds.set(job.id, hold);
        await hold.opened;
      },
      { concurrency: 1 },
    );
    for (const id of ['a', 'b', 'c']) await q.add({ id, group: id, data: { n: 0 } });
    let result: { unfinished: number } | undefined;
    void q.close(1000).then((r) => (result = r));
    // 'a' ends 100 ms into the drain, 900 ms left: a run like it (150 ms with the margin) fits, so 'b' starts.
    await vi.advanceTimersByTimeAsync(100);
    holds.get('a')!.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual(['a', 'b']);
    // 'b' ends 600 ms later, 300 ms left: a run like its 600 ms would be cut short, so 'c' never starts,
    // and close() does not wait out the deadline for it.
    await vi.advanceTimersByTimeAsync(600);
    holds.get('b')!.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual(['a', 'b']);
    expect(result).toEqual({ unfinished: 1 });
    expect(q.unfinishedJobs().map((job) => job.id)).toEqual(['c']);
  });

  it('leaves out of the never-started jobs those behind a job still running at the deadline', async () => {
    vi.useFakeTimers();
    const q = queue();
    const hold = kit.gate();
    q.process(async () => hold.opened, { concurrency: 1 });
    // 'a' runs past the deadline; 'b' waits behind it in its conversation, 'c' in a conversation of its own.
    await q.add({ id: 'a', group: 'g', data: { n: 0 } });
    await q.add({ id: 'b', group: 'g', data: { n: 1 } });
    await q.add({ id: 'c', group: 'h', data: { n: 2 } });
    const closed = q.close(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await closed).toEqual({ unfinished: 3 });
    // An apology to 'b' could come before the answer to 'a': only 'c' is owed one.
    expect(q.neverStartedJobs().map((job) => job.id)).toEqual(['c']);
    hold.open();
  });

  it('without a worker, reports the queued jobs as unfinished', async () => {
    const q = queue();
    await q.add({ id: 'a', group: 'g', data: { n: 0 } });
    await q.add({ id: 'b', group: 'h', data: { n: 0 } });
    expect(await q.close(1000)).toEqual({ unfinished: 2 });
  });

  it('replaying on a closed queue does not lose the dead letter', async () => {
    const q = queue();
    await q.addDeadLetter(letter('keep-me', { reason: 'attempts_exhausted', attempts: 3 }));
    q.process(async () => undefined, { concurrency: 1 });
    await q.close(100);
    await expect(q.replay('keep-me')).rejects.toBeInstanceOf(QueueClosedError);
    // "Nothing lost": the message must still be in the dead letters when it could not be re-queued.
    expect((await q.deadLetters()).map((dead) => dead.id)).toEqual(['keep-me']);
  });
});
