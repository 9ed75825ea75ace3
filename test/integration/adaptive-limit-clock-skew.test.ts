/**
 * The shared AI limit between processes whose clocks differ by a few seconds (an ingress and a
 * worker on different hosts), against a real Redis: a 429's block lasts as the provider asked for
 * every process, whichever clock is ahead. Each "process" is a RedisAdaptiveLimit of its own on one
 * prefix; its clock is Date.now shifted while it acts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisAdaptiveLimit } from '../../src/ai/redis-adaptive-limit.js';
import { deleteKeys, requireRedis, uniquePrefix } from './redis-helpers.js';

let redis: Redis;
const prefixes: string[] = [];
beforeAll(async () => {
  redis = await requireRedis();
});
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(redis, `{${prefix}`);
  redis.disconnect();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const realNow = Date.now.bind(Date);
/** Run `act` as a process whose clock is `skewMs` off the real one. */
async function withClock<T>(skewMs: number, act: () => Promise<T>): Promise<T> {
  const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skewMs);
  try {
    return await act();
  } finally {
    spy.mockRestore();
  }
}

function twoProcesses() {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const options = { max: 4, leaseMs: 60_000 };
  return [new RedisAdaptiveLimit(redis, options, prefix), new RedisAdaptiveLimit(redis, options, prefix)] as const;
}

describe('the shared AI limit across clocks a few seconds apart', () => {
  it('a process whose clock is 5 s ahead still waits out a 2 s Retry-After another process was given', async () => {
    const [worker, ahead] = twoProcesses();
    const slot = await worker.tryAcquire();
    if (!('token' in slot)) throw new Error('no slot');
    await worker.release(slot.token, { kind: 'throttled', retryAfterMs: 2000 });
    const admission = await withClock(5000, () => ahead.tryAcquire());
    expect(admission).not.toHaveProperty('token');
    expect(admission).toMatchObject({ waitMs: expect.any(Number) });
    expect((admission as { waitMs: number }).waitMs).toBeGreaterThan(1000);
  });

  it('a process whose clock is 5 s behind waits the 2 s asked, not 7 s', async () => {
    const [worker, behind] = twoProcesses();
    const slot = await worker.tryAcquire();
    if (!('token' in slot)) throw new Error('no slot');
    await worker.release(slot.token, { kind: 'throttled', retryAfterMs: 2000 });
    const admission = await withClock(-5000, () => behind.tryAcquire());
    expect((admission as { waitMs: number }).waitMs).toBeLessThanOrEqual(2000);
    // The throttling's start, read on the caller's clock (its fallback timer counts from it): now, not 5 s ahead.
    const since = (admission as { throttledSince?: number }).throttledSince!;
    expect(Math.abs(since - (realNow() - 5000))).toBeLessThan(1000);
  });

  it('a lease taken by a process 5 s behind is not dropped early by one 5 s ahead', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const options = { max: 1, leaseMs: 3000 };
    const [behind, ahead] = [new RedisAdaptiveLimit(redis, options, prefix), new RedisAdaptiveLimit(redis, options, prefix)];
    expect(await withClock(-5000, () => behind.tryAcquire())).toHaveProperty('token');
    // The only slot is held for 3 s by the real clock: nobody else may have it now.
    expect(await withClock(5000, () => ahead.tryAcquire())).not.toHaveProperty('token');
    const state = await withClock(5000, () => ahead.state());
    expect(state.inFlight).toBe(1);
  });
});
