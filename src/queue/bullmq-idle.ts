/**
 * BullQueue.close()'s drain. BullMQ's pause() waits for the job fetches under way, which wait out a
 * Redis outage: while Redis cannot be reached it never ends. With no job of this process running
 * there is nothing to wait for then: a fetch cut off leaves at most a job whose lock runs out, which
 * the stalled-job check hands to another worker.
 */
import { orAfter } from '../timeout.js';
import type { RedisClient as Redis } from '../store/redis-connection.js';

/** How often the drain looks whether the last job has ended while Redis is away. */
const CHECK_MS = 100;

export type Drained = 'paused' | 'failed' | 'unreachable' | 'late';

/**
 * `paused` (the worker paused: its jobs finished), or 'unreachable' once no job runs (`running()` is 0)
 * while `connection` is not ready, or 'late' after `ms`.
 */
export async function drainWithin(paused: Promise<'paused' | 'failed'>, running: () => number, connection: Redis | undefined, ms: number): Promise<Drained> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<'unreachable'>((resolve) => {
    timer = setInterval(() => {
      if (running() === 0 && connection?.status !== 'ready') resolve('unreachable');
    }, CHECK_MS).unref();
  });
  return orAfter(Promise.race([paused, idle]), ms, 'late' as const).finally(() => clearInterval(timer));
}
