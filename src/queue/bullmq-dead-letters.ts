/**
 * The BullMQ queue's dead letters: BullMQ's failed set (jobs that ran out of attempts or failed for
 * good in a worker) plus, in a hash of their own, the letters direct mode records outside a worker.
 */
import type { Job as BullJob, Queue } from 'bullmq';
import type { RedisClient as Redis } from '../store/redis-connection.js';
import { oldestFirst, type DeadLetter } from './queue.js';

export interface Stored<T> {
  group: string;
  data: T;
  /** Set when a job is given up for a reason other than running out of attempts. */
  deadReason?: string;
}

/** Shaped as the jobs the bot queues (`{ group, data }`): not one added to BullMQ by hand. */
export function isStored<T>(value: unknown): value is Stored<T> {
  return typeof value === 'object' && value !== null && typeof (value as { group?: unknown }).group === 'string' && 'data' in value;
}

export class BullDeadLetters<T> {
  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    /** The hash of direct mode's letters. */
    private readonly directKey: string,
  ) {}

  async list(): Promise<DeadLetter<T>[]> {
    const failed = (await this.queue.getFailed(0, -1)) as BullJob<Stored<T>>[];
    const fromWorkers = failed.map((job) => ({
      id: job.id as string,
      // A job added to BullMQ by hand (not `{ group, data }`) is kept as it came.
      group: isStored(job.data) ? job.data.group : '',
      data: isStored<T>(job.data) ? job.data.data : (job.data as T),
      error: job.failedReason,
      reason: job.data.deadReason ?? 'attempts_exhausted',
      attempts: job.attemptsMade,
      failedAt: new Date(job.finishedOn ?? job.timestamp).toISOString(),
    }));
    const direct = Object.values(await this.redis.hgetall(this.directKey)).map((json) => JSON.parse(json) as DeadLetter<T>);
    // BullMQ lists its failed set newest first; a replay of all must go oldest first.
    return oldestFirst([...fromWorkers, ...direct]);
  }

  async addDirect(letter: DeadLetter<T>): Promise<void> {
    await this.redis.hset(this.directKey, letter.id, JSON.stringify(letter));
  }

  /** Direct mode's letter with this id, if any. */
  async direct(id: string): Promise<DeadLetter<T> | undefined> {
    const json = await this.redis.hget(this.directKey, id);
    return json ? (JSON.parse(json) as DeadLetter<T>) : undefined;
  }

  async removeDirect(id: string): Promise<void> {
    await this.redis.hdel(this.directKey, id);
  }

  /** A failed job that can be retried, or undefined. */
  async failedJob(id: string): Promise<BullJob<Stored<T>> | undefined> {
    const job = (await this.queue.getJob(id)) as BullJob<Stored<T>> | undefined;
    return job && (await job.getState()) === 'failed' ? job : undefined;
  }

  directCount(): Promise<number> {
    return this.redis.hlen(this.directKey);
  }

  /**
   * Remove the letter `id` without replaying it: direct mode's first, as replay takes it, else the
   * failed job (through BullMQ's own `Job.remove`). False when there is neither.
   */
  async drop(id: string): Promise<boolean> {
    await this.queue.waitUntilReady();
    if ((await this.redis.hdel(this.directKey, id)) > 0) return true;
    const job = await this.failedJob(id);
    if (!job) return false;
    await job.remove();
    return true;
  }

  /** Drop them all; returns how many. */
  async purge(): Promise<number> {
    await this.queue.waitUntilReady();
    const removed = await this.queue.clean(0, 0, 'failed');
    const direct = await this.directCount();
    await this.redis.del(this.directKey);
    return removed.length + direct;
  }
}

/** Move a failed job back to the queue with fresh attempts; false when it is no longer failed (another replay moved it first). */
export async function retryFailed(job: { retry(state: 'failed', options: { resetAttemptsMade: boolean; resetAttemptsStarted: boolean }): Promise<void> }): Promise<boolean> {
  try {
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  } catch (error) {
    if (/not in the failed state/.test(String(error))) return false;
    throw error;
  }
}
