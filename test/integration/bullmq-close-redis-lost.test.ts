/**
 * A worker whose Redis goes away while it runs (it was connected), then is stopped, on a
 * redis-server of the test's own (the shared one is never touched): with no job of its own running
 * it closes at once, not at its deadline (BullMQ's pause waits for job fetches that wait out the
 * outage); a job still running is waited for, as ever.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BullQueue, type Job } from '../../src/queue/index.js';
import { queueTestKit, testRetry, type Data } from '../helpers/queue.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { sleep, waitFor } from './redis-helpers.js';

/** Far past each test's timeout: a close that waits for its deadline fails the test. */
const DEADLINE_MS = 120_000;

let server: PrivateRedis | undefined;
const queues: BullQueue<Data>[] = [];
const kit = queueTestKit();
afterEach(async () => {
  await kit.cleanup();
  for (const queue of queues.splice(0)) queue.drop();
  await server?.stop();
  server = undefined;
});

async function worker(concurrency: number, handler: (job: Job<Data>) => Promise<void>) {
  server = await startPrivateRedis(['--appendonly', 'no']);
  const queue = new BullQueue<Data>({ url: server.url, prefix: 'lost', retry: testRetry, lockDurationMs: 2000, turnPollMs: 50 });
  queues.push(queue);
  queue.process(handler, { concurrency });
  const admit = (n: number) => queue.admit({ id: `m${n}`, group: `g${n}`, data: { n } }, { claim: `seen:m${n}`, claimTtlMs: 60_000, limits: [] });
  return { queue, admit };
}

describe('BullQueue.close() once Redis has gone away', () => {
  it('with no job running, closes at once: nothing unfinished', async () => {
    const runs: number[] = [];
    const { queue, admit } = await worker(2, async (job) => void runs.push(job.data.n));
    await admit(1);
    await waitFor(() => runs.length === 1, 10_000, 'a job to run: the worker is connected');
    await sleep(200); // BullMQ is waiting for the next job again
    await server!.stop();
    expect(await queue.close(DEADLINE_MS)).toEqual({ unfinished: 0 });
  }, 20_000);

  it('waits for a job still running, then closes: nothing unfinished', async () => {
    const hold = kit.gate();
    const events: string[] = [];
    const { queue, admit } = await worker(2, async (job) => {
      events.push(`start ${job.data.n}`);
      await hold.opened;
      events.push(`end ${job.data.n}`);
    });
    await admit(1);
    await waitFor(() => events.length === 1, 10_000, 'the job to start');
    await server!.stop();
    let closed = false;
    const closing = queue.close(DEADLINE_MS).finally(() => (closed = true));
    await sleep(1000);
    expect(closed).toBe(false); // the job is still running
    hold.open();
    expect(await closing).toEqual({ unfinished: 0 });
    expect(events).toEqual(['start 1', 'end 1']);
  }, 20_000);

  it('closes at once too while its pump waits for BullMQ to take fewer (a backlog in the intake)', async () => {
    const hold = kit.gate();
    const runs: number[] = [];
    const { queue, admit } = await worker(1, async (job) => {
      runs.push(job.data.n);
      await hold.opened;
    });
    for (let n = 1; n <= 40; n++) await admit(n);
    await waitFor(() => runs.length === 1, 10_000, 'the first job to start');
    await sleep(300); // the pump has moved 16 and looks at BullMQ's count until the worker takes some
    await server!.stop();
    hold.open(); // the running job ends: none runs now
    expect(await queue.close(DEADLINE_MS)).toEqual({ unfinished: 0 });
  }, 20_000);
});
