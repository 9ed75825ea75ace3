/** Shared by the queue tests: the job data, gates that hold a job "running", dead letters, BullQueue options. */
import { BullQueue, type BullQueueOptions, type DeadLetter, type JobQueue, type RetryOptions } from '../../src/queue/index.js';
import { REDIS_URL } from '../integration/redis-helpers.js';

export type Data = { n: number };

/** The retry policy every queue test starts from (attempts 3, short backoffs). */
export const testRetry: RetryOptions = { attempts: 3, backoffMs: 20, maxBackoffMs: 200 };

/** A BullQueue on the test Redis under `prefix`, with short locks and turn polls. */
export function bullQueue(prefix: string, options: { retry?: Partial<RetryOptions> } & Partial<Omit<BullQueueOptions<Data>, 'retry' | 'noticeOf'>> = {}): BullQueue<Data> {
  const { retry, ...rest } = options;
  return new BullQueue<Data>({ url: REDIS_URL, prefix, retry: { ...testRetry, ...retry }, lockDurationMs: 2000, turnPollMs: 50, ...rest });
}

/** A dead letter as direct mode records it. */
export function letter(id: string, overrides: Partial<DeadLetter<Data>> = {}): DeadLetter<Data> {
  return { id, group: 'g', data: { n: 0 }, error: 'Error: direct failure', reason: 'direct_failed', attempts: 1, failedAt: new Date().toISOString(), ...overrides };
}

/**
 * The queues and gates of one test: `gate()` holds a job "running" until the test opens it;
 * `cleanup()` (in afterEach) opens every gate, then closes every queue with its deadline.
 */
export function queueTestKit() {
  const queues: Array<{ queue: JobQueue<Data>; closeMs: number }> = [];
  const releases: Array<() => void> = [];
  return {
    track<Q extends JobQueue<Data>>(queue: Q, closeMs: number): Q {
      queues.push({ queue, closeMs });
      return queue;
    },
    gate() {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      releases.push(open);
      return { open, opened };
    },
    async cleanup(): Promise<void> {
      for (const release of releases.splice(0)) release();
      await Promise.all(queues.splice(0).map(({ queue, closeMs }) => queue.close(closeMs)));
    },
  };
}
