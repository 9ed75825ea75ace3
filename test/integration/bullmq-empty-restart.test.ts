/**
 * A Redis that comes back empty (no persistence, as many managed and container setups run) while a
 * worker is answering a message, on a redis-server of the test's own (the shared one is never
 * touched): the job still running keeps its conversation's turn, so the conversation's next
 * message waits for it instead of being answered beside it, and first.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BullQueue } from '../../src/queue/index.js';
import { queueTestKit, testRetry, type Data } from '../helpers/queue.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { waitFor } from './redis-helpers.js';

let server: PrivateRedis | undefined;
let admin: Redis | undefined;
const kit = queueTestKit();
afterEach(async () => {
  await kit.cleanup();
  admin?.disconnect();
  await server?.stop();
  server = admin = undefined;
});

/**
 * A redis-server of the test's own without persistence, and a queue on it (two slots) whose job
 * `first` (conversation g) has started and runs until `hold.open()`; `events` is what jobs did.
 */
async function firstJobRunning(prefix: string, lockDurationMs: number) {
  const redis = (server = await startPrivateRedis(['--appendonly', 'no']));
  const redisAdmin = (admin = new Redis(redis.url));
  const queue = kit.track(new BullQueue<Data>({ url: redis.url, prefix, retry: testRetry, lockDurationMs, turnPollMs: 50 }), 1000);
  const events: string[] = [];
  const hold = kit.gate();
  queue.process(
    async (job) => {
      events.push(`start ${job.id}`);
      if (job.id === 'first') await hold.opened;
      events.push(`end ${job.id}`);
    },
    { concurrency: 2 },
  );
  await queue.add({ id: 'first', group: 'g', data: { n: 1 } });
  await waitFor(() => events.includes('start first'), 5000, 'the first job to start');
  return { server: redis, admin: redisAdmin, queue, events, hold };
}

describe('BullQueue across a Redis that restarts empty', () => {
  it("a job running through the restart keeps its turn: the conversation's next message waits for it", async () => {
    const { server, admin, queue, events, hold } = await firstJobRunning('empty', 2000); // no persistence: it restarts empty

    await server.stop();
    await server.start();
    // (Not asserted empty here: the worker's connection may already be back and have retaken the turn.)
    // The producer fails fast until it has reconnected: the platform's redelivery, as it were.
    await waitFor(() => queue.add({ id: 'second', group: 'g', data: { n: 2 } }).then(() => true, () => false), 10_000, 'the second message to be queued');
    // Either it started beside the first (the bug), or it found the conversation busy and parked.
    await waitFor(async () => events.includes('start second') || (await admin.sismember('empty:turn-parked:g', 'second')) === 1, 10_000, 'the second job to be taken');
    expect(events).toEqual(['start first']);

    hold.open();
    await waitFor(() => events.includes('end second'), 10_000, 'the second job to run');
    expect(events).toEqual(['start first', 'end first', 'start second', 'end second']);
  }, 40_000);

  it('a reconnection to a Redis that kept its data puts back no ticket: a job another worker answered after a stall holds no turn', async () => {
    // A long lock: a ticket put back wrongly would hold the conversation far past this test's waits.
    const { admin, queue, events } = await firstJobRunning('kept', 60_000);
    // Its lock lost (a stall), another worker took the job, answered it and left the line; this process still runs its copy.
    await admin.zrem('kept:turn:g', 'first');
    await admin.hset('kept:messages:first', 'finishedOn', String(Date.now()));
    // A network blip, no data lost: every connection of the queue reconnects.
    await admin.client('KILL', 'TYPE', 'normal');
    await waitFor(() => queue.add({ id: 'second', group: 'g', data: { n: 2 } }).then(() => true, () => false), 10_000, 'the second message to be queued');
    await waitFor(() => events.includes('end second'), 10_000, 'the second job to run');
    expect(await admin.zscore('kept:turn:g', 'first')).toBeNull();
  }, 40_000);
});
