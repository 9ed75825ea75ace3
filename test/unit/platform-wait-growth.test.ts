/**
 * How long a waiting job is held: a platform's own Retry-After as it asks; a guessed wait (a
 * platform that could not be reached, `inPlace: false`) grows with the outage, up to a minute.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, RetryAfterError } from '../../src/adapter.js';
import { asQueueError, waitOrGiveUp } from '../../src/failure.js';
import { keys } from '../../src/jobs.js';
import { platformUnreachable } from '../../src/platform-unreachable.js';
import { MemoryStore } from '../../src/store/index.js';

const HOUR = 3_600_000;

/** The wait a job that first waited `agoMs` ago is given for `error`. */
async function heldFor(error: RetryAfterError, agoMs: number, job = `job-${agoMs}-${error.inPlace}`): Promise<RetryAfterError> {
  const store = new MemoryStore();
  await store.set(keys.waiting(job), String(Date.now() - agoMs));
  const wait = await waitOrGiveUp(store, job, error, HOUR);
  expect(wait).toBeInstanceOf(RetryAfterError);
  return wait as RetryAfterError;
}

describe('a platform that could not be reached', () => {
  it('waits 5 s at first, then about as long as it has waited already, at most a minute; still never in place', async () => {
    const unreachable = () => platformUnreachable('the Slack Web API', 'ECONNREFUSED');
    expect((await heldFor(unreachable(), 0)).retryAfterMs).toBe(5000);
    const later = await heldFor(unreachable(), 20_000);
    expect(later.retryAfterMs).toBeGreaterThanOrEqual(20_000);
    expect(later.retryAfterMs).toBeLessThan(21_000);
    expect((await heldFor(unreachable(), 10 * 60_000)).retryAfterMs).toBe(60_000);
    expect(later.inPlace).toBe(false);
  });

  it("a platform's own Retry-After is held as it asks, however long the job has waited", async () => {
    const asked = await heldFor(new RetryAfterError('Slack rate limit', 5000), 20 * 60_000);
    expect(asked.retryAfterMs).toBe(5000);
    expect(asked.inPlace).toBe(true);
  });
});

describe('a store that cannot record the first wait (Redis refusing writes: the wait itself)', () => {
  /** A store that refuses every write, as a full Redis under noeviction does. */
  class FullStore extends MemoryStore {
    override async setIfAbsent(): Promise<boolean> {
      throw Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: 'ReplyError' });
    }
  }

  it('this process remembers it: the wait still grows, and AI_MAX_WAIT_MS still ends it', async () => {
    const store = new FullStore();
    const refused = asQueueError(Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: 'ReplyError' }));
    expect(refused).toBeInstanceOf(RetryAfterError);
    const first = await waitOrGiveUp(store, 'job-oom', refused as RetryAfterError, 60_000, Date.now() - 20_000);
    expect((first as RetryAfterError).retryAfterMs).toBeGreaterThanOrEqual(20_000);
    // A later run, started just now: its wait is still counted from the first.
    const later = await waitOrGiveUp(store, 'job-oom', refused as RetryAfterError, 15_000, Date.now());
    expect(later).toBeInstanceOf(PermanentError);
    expect((later as PermanentError).reason).toBe('max_wait');
  });
});

describe('a first wait another process remembered, once the job has been given up and replayed', () => {
  afterEach(() => void vi.useRealTimers());
  /** The shared store (Redis), refusing writes while `full`. */
  class SharedStore extends MemoryStore {
    full = false;
    override async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
      if (this.full) throw Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: 'ReplyError' });
      return super.setIfAbsent(key, value, ttlMs);
    }
  }

  it('does not give the replay up at once, whether or not the store records its wait', async () => {
    // Two worker processes: two instances of the module (its memory is per process).
    const processA = (await import('../../src/failure.js?process-a' as string)) as typeof import('../../src/failure.js');
    vi.resetModules();
    const processB = (await import('../../src/failure.js?process-b' as string)) as typeof import('../../src/failure.js');
    const store = new SharedStore();
    const wait = () => new RetryAfterError('AI rate limited', 5000);
    const t0 = Date.now();
    vi.useFakeTimers({ now: t0 });
    store.full = true; // the first wait, on A, cannot be written: A remembers it
    expect(await processA.waitOrGiveUp(store, 'slack.Ev1', wait(), HOUR / 6, Date.now())).toBeInstanceOf(RetryAfterError);
    store.full = false; // the later runs, on B, wait past AI_MAX_WAIT_MS and are given up
    vi.setSystemTime(t0 + 60_000);
    await processB.waitOrGiveUp(store, 'slack.Ev1', wait(), HOUR / 6, Date.now());
    vi.setSystemTime(t0 + 60_000 + HOUR / 6 + 1);
    expect(await processB.waitOrGiveUp(store, 'slack.Ev1', wait(), HOUR / 6, Date.now())).toBeInstanceOf(PermanentError);
    await processB.forgetWait(store, 'slack.Ev1');
    vi.setSystemTime(t0 + 3 * HOUR); // replayed hours later, run on A
    expect(await processA.waitOrGiveUp(store, 'slack.Ev1', wait(), HOUR / 6, Date.now())).toBeInstanceOf(RetryAfterError);
    // Again, the replay on A now meeting a store that refuses writes: A's memory of the first run is too old to be this run's.
    store.full = true;
    vi.setSystemTime(t0);
    expect(await processA.waitOrGiveUp(store, 'slack.Ev2', wait(), HOUR / 6, Date.now())).toBeInstanceOf(RetryAfterError);
    vi.setSystemTime(t0 + 3 * HOUR);
    expect(await processA.waitOrGiveUp(store, 'slack.Ev2', wait(), HOUR / 6, Date.now())).toBeInstanceOf(RetryAfterError);
  });
});

describe('a first wait the store recorded before it began to refuse writes', () => {
  it('still counts first: AI_MAX_WAIT_MS is counted from it, not from the refusal', async () => {
    class RefusingLater extends MemoryStore {
      full = false;
      override async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
        if (this.full) throw Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: 'ReplyError' });
        return super.setIfAbsent(key, value, ttlMs);
      }
    }
    const store = new RefusingLater();
    const wait = new RetryAfterError('AI rate limited', 5000);
    expect(await waitOrGiveUp(store, 'job-recorded', wait, 60_000, Date.now() - 50_000)).toBeInstanceOf(RetryAfterError);
    store.full = true;
    const later = await waitOrGiveUp(store, 'job-recorded', wait, 40_000, Date.now() - 15_000);
    expect(later).toBeInstanceOf(PermanentError);
  });
});
