/**
 * The Tally contract (shared counters: traffic per minute, AI spend) over MemoryTally and
 * RedisTally on a real Redis; then two RedisTally on two connections, as two processes have them.
 */
import { describe, expect, it } from 'vitest';
import { MemoryTally, RedisTally, type Tally } from '../../src/ops/tally.js';
import { describeTallyContract } from './tally-contract.js';
import { commandsSent, uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);
let counter = 0;

const implementations: [string, () => Promise<Tally>][] = [
  ['MemoryTally', async () => new MemoryTally()],
  ['RedisTally', async () => new RedisTally(await redis.connection(), `${prefix}:${++counter}:`)],
];

describeTallyContract(implementations);

describe('RedisTally on Redis', () => {
  it('sets the key under its prefix with the ttl of the last add', async () => {
    const tally = new RedisTally(await redis.connection(), `${prefix}:ttl:`);
    await tally.add('spend', { total: 1 }, 3_600_000);
    const pttl = await redis.admin().pttl(`${prefix}:ttl:spend`);
    expect(pttl).toBeGreaterThan(3_590_000);
    expect(pttl).toBeLessThanOrEqual(3_600_000);
    expect(await redis.admin().hget(`${prefix}:ttl:spend`, 'total')).toBe('1');
  });

  it('an add is one command, however many fields it counts (a message counts its cost in three)', async () => {
    const connection = await redis.connection();
    const tally = new RedisTally(connection, `${prefix}:one:`);
    await tally.add('warm', { total: 1 }, 60_000); // the first run on a connection loads the script
    const sent = await commandsSent(connection, () => tally.add('day', { total: 0.5, 'model:gpt': 0.5, 'tenant:T1': 0.5 }, 60_000));
    expect(sent).toEqual(['evalsha']);
    expect(await redis.admin().hgetall(`${prefix}:one:day`)).toEqual({ total: '0.5', 'model:gpt': '0.5', 'tenant:T1': '0.5' });
    expect(await redis.admin().pttl(`${prefix}:one:day`)).toBeGreaterThan(59_000);
  });

  it('an empty add writes nothing', async () => {
    const tally = new RedisTally(await redis.connection(), `${prefix}:empty:`);
    expect(await tally.add('none', {}, 1000)).toEqual({});
    expect(await redis.admin().exists(`${prefix}:empty:none`)).toBe(0);
  });

  it('counts on its writer connection and reads on the other: counting goes on while the reading one is down, and reading while the writer is', async () => {
    const reads = await redis.connection();
    const writes = await redis.connection();
    const tally = new RedisTally(reads, `${prefix}:split:`, () => writes);
    reads.disconnect(); // the app's fail-fast connection, down
    expect(await tally.add('spend', { total: 2 }, 60_000)).toEqual({ total: 2 });
    await expect(tally.read('spend')).rejects.toThrow();
    expect(await redis.admin().hget(`${prefix}:split:spend`, 'total')).toBe('2');
    const reader = new RedisTally(await redis.connection(), `${prefix}:split:`, () => writes);
    writes.disconnect();
    expect(await reader.read('spend')).toEqual({ total: 2 });
    await expect(reader.add('spend', { total: 1 }, 60_000)).rejects.toThrow();
  });

  it('two processes (two connections) add into the same counters', async () => {
    const shared = `${prefix}:shared:`;
    const a = new RedisTally(await redis.connection(), shared);
    const b = new RedisTally(await redis.connection(), shared);
    await a.add('minute', { received: 2 }, 60_000);
    expect(await b.add('minute', { received: 3, dead: 1 }, 60_000)).toEqual({ received: 5, dead: 1 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).add('minute', { received: 0.5 }, 60_000)));
    expect(await a.read('minute')).toEqual({ received: 15, dead: 1 });
    expect(await b.read('minute')).toEqual(await a.read('minute'));
  });
});
