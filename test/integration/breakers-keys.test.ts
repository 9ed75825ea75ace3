/**
 * The processes' circuit-breaker reports (for the console's overview) are shared counters like the
 * spend and the per-minute traffic: on Redis they sit under REDIS_PREFIX and then `parley:`, as
 * every other counter does, expire within seconds, and another process reads them back.
 */
import { describe, expect, it } from 'vitest';
import { Breakers } from '../../src/ops/breakers.js';
import { RedisTally } from '../../src/ops/tally.js';
import { keysWithPrefix, uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);

describe("the breakers' reports on Redis", () => {
  it('are written as <REDIS_PREFIX>:parley:breakers:<bucket>, with a TTL, and read by another process', async () => {
    const namespace = `${prefix}:`; // as backends.ts gives it: REDIS_PREFIX and a colon
    const now = Date.now();
    const mine = new Breakers(new RedisTally(await redis.connection(), namespace), () => 'open');
    mine.publish(now);
    const other = new Breakers(new RedisTally(await redis.connection(), namespace), () => 'closed');
    await expect.poll(async () => (await other.summary(now)).processes, { timeout: 5000 }).toEqual({ open: 1, closed: 1 });

    const keys = await keysWithPrefix(redis.admin(), prefix);
    expect(keys).toEqual([`${prefix}:parley:breakers:${Math.floor(now / 10_000)}`]);
    expect(await redis.admin().pttl(keys[0]!)).toBeGreaterThan(0);
  });
});
