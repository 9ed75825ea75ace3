/**
 * A worker asked to close (SIGTERM) takes no new job: the ones it holds finish, and the next one,
 * waiting in BullMQ, is left for another worker, not started here by the finishing job's
 * fetch-next while the close is still stopping the intake pump.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bullQueue, queueTestKit, type Data } from '../helpers/queue.js';
import type { BullQueue } from '../../src/queue/index.js';
import { uniquePrefix, useRedis, waitFor } from './redis-helpers.js';

const prefix = uniquePrefix();
useRedis(prefix);
const kit = queueTestKit();
afterEach(() => kit.cleanup());

const queue = (): BullQueue<Data> => kit.track(bullQueue(prefix), 1000);

describe('BullQueue close', () => {
  it('a job finishing as close() begins fetches no next job: it stays queued for another worker', async () => {
    const worker = queue();
    const producer = queue(); // an ingress process: it runs no job
    const hold = kit.gate();
    const started: number[] = [];
    worker.process(
      async (job) => {
        started.push(job.data.n);
        if (job.data.n === 1) await hold.opened;
      },
      { concurrency: 1 },
    );
    await producer.add({ id: 'first', group: 'a', data: { n: 1 } });
    await waitFor(() => started.length === 1, 5000, 'the first job to start');
    await producer.add({ id: 'second', group: 'b', data: { n: 2 } });
    // SIGTERM: close() begins, and the job held finishes right then.
    const closed = worker.close(5000);
    hold.open();
    expect(await closed).toEqual({ unfinished: 0 });
    expect(started).toEqual([1]);
    const counts = await producer.counts();
    expect(counts.waiting).toBe(1); // "second": not lost, another worker answers it
    expect(counts.active).toBe(0);
  });
});
