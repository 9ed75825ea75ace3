/**
 * The adaptive AI concurrency limit: one contract for the in-process limit and the Redis one
 * (against a real Redis), plus what only the shared one can do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { MemoryAdaptiveLimit, type AdaptiveLimit, type AdaptiveLimitOptions } from '../../src/ai/adaptive-limit.js';
import { RedisAdaptiveLimit } from '../../src/ai/redis-adaptive-limit.js';
import { deleteKeys, requireRedis, sleep, uniquePrefix } from './redis-helpers.js';

let redis: Redis;
const prefixes: string[] = [];
beforeAll(async () => {
  redis = await requireRedis();
});
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(redis, `{${prefix}`);
  redis.disconnect();
});

type Factory = (options: AdaptiveLimitOptions) => AdaptiveLimit;
const memory: Factory = (options) => new MemoryAdaptiveLimit(options);
const onRedis: Factory = (options) => {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  return new RedisAdaptiveLimit(redis, options, prefix);
};

async function takeAll(limit: AdaptiveLimit): Promise<string[]> {
  const tokens: string[] = [];
  for (;;) {
    const admission = await limit.tryAcquire();
    if (!('token' in admission)) return tokens;
    tokens.push(admission.token);
  }
}

describe.each([
  ['memory', memory],
  ['Redis', onRedis],
])('adaptive limit (%s)', (_name, create) => {
  it('admits up to the maximum, then says to wait briefly until a slot frees', async () => {
    const limit = create({ max: 3, leaseMs: 60_000 });
    const tokens = await takeAll(limit);
    expect(tokens).toHaveLength(3);
    const refused = await limit.tryAcquire();
    expect(refused).toMatchObject({ waitMs: expect.any(Number) });
    expect('throttledSince' in refused).toBe(false);
    await limit.release(tokens[0]!, { kind: 'failed' });
    expect(await limit.tryAcquire()).toHaveProperty('token');
    expect((await limit.state()).limit).toBe(3);
  });

  it('halves on a 429 and blocks every call for as long as Retry-After says', async () => {
    const limit = create({ max: 8, leaseMs: 60_000 });
    const [token] = await takeAll(limit);
    const before = Date.now();
    await limit.release(token!, { kind: 'throttled', retryAfterMs: 1000 });
    const state = await limit.state();
    const read = Date.now();
    expect(state.limit).toBe(4);
    // A time kept on Redis's clock reads on this process's as the 429's moment, give or take how long
    // the reply took to be read (a loaded machine: tens of ms), never later than it was read.
    expect(state.throttledSince).toBeGreaterThanOrEqual(before - 5);
    expect(state.throttledSince).toBeLessThanOrEqual(read);
    const blocked = await limit.tryAcquire();
    const asked = Date.now();
    expect((blocked as { throttledSince: number }).throttledSince).toBeGreaterThanOrEqual(before - 5);
    expect((blocked as { throttledSince: number }).throttledSince).toBeLessThanOrEqual(asked);
    // The wait is what is left of the 1 s block however long the calls above took (a loaded machine).
    expect((blocked as { waitMs: number }).waitMs).toBeGreaterThanOrEqual(before + 1000 - asked);
    expect((blocked as { waitMs: number }).waitMs).toBeLessThanOrEqual(1000);
    await sleep(before + 1020 - Date.now());
    // The block is over, but 7 slots are still held and the limit is now 4: busy, not blocked.
    const busy = await limit.tryAcquire();
    expect(busy).toHaveProperty('waitMs');
    expect('throttledSince' in busy).toBe(false);
  });

  it('halves once for calls that were throttled together, not once per call', async () => {
    const limit = create({ max: 8, leaseMs: 60_000 });
    const tokens = await takeAll(limit);
    for (const token of tokens) await limit.release(token, { kind: 'throttled', retryAfterMs: 100 });
    expect((await limit.state()).limit).toBe(4);
  });

  it('grows back by one per round of successes, never past the maximum, and ends the throttle', async () => {
    const limit = create({ max: 4, leaseMs: 60_000 });
    const first = (await limit.tryAcquire()) as { token: string };
    await limit.release(first.token, { kind: 'throttled', retryAfterMs: 20 });
    expect((await limit.state()).limit).toBe(2);
    await sleep(30);
    const successes = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const admission = await limit.tryAcquire();
        expect(admission).toHaveProperty('token');
        await limit.release((admission as { token: string }).token, { kind: 'ok' });
      }
    };
    await successes(2); // 2 + 1/2 + 1/2
    expect((await limit.state()).limit).toBeCloseTo(3, 5);
    expect((await limit.state()).throttledSince).toBeUndefined();
    await successes(20);
    expect((await limit.state()).limit).toBe(4);
  });

  it('never goes below one', async () => {
    const limit = create({ max: 2, leaseMs: 60_000 });
    for (let i = 0; i < 2; i++) {
      const admission = await limit.tryAcquire();
      expect(admission).toHaveProperty('token');
      await limit.release((admission as { token: string }).token, { kind: 'throttled', retryAfterMs: 1 });
      await sleep(1050); // past the once-per-throttle window
    }
    expect((await limit.state()).limit).toBe(1);
  });

  it('frees the slot of a holder that never released it once its lease ends', async () => {
    const limit = create({ max: 1, leaseMs: 1000 }); // long enough that a loaded machine's second call still finds it held
    expect(await limit.tryAcquire()).toHaveProperty('token');
    expect(await limit.tryAcquire()).toHaveProperty('waitMs');
    await sleep(1020);
    expect(await limit.tryAcquire()).toHaveProperty('token');
  });
});

describe('adaptive limit shared on Redis', () => {
  it('is one limit for every process: a 429 seen by one blocks and halves for all', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const other = await requireRedis();
    try {
      const a = new RedisAdaptiveLimit(redis, { max: 4, leaseMs: 60_000 }, prefix);
      const b = new RedisAdaptiveLimit(other, { max: 4, leaseMs: 60_000 }, prefix);
      const fromA = await takeAll(a);
      expect(fromA).toHaveLength(4);
      expect(await b.tryAcquire()).toHaveProperty('waitMs');
      await a.release(fromA[0]!, { kind: 'throttled', retryAfterMs: 5000 }); // b asks inside it, also on a loaded machine
      expect(await b.tryAcquire()).toMatchObject({ throttledSince: expect.any(Number) });
      expect((await b.state()).limit).toBe(2);
    } finally {
      other.disconnect();
    }
  });
});
