/**
 * What only the Redis store does: namespaced keys, and the expiries Redis records (PTTL). The
 * Store contract it shares with MemoryStore is in store.test.ts.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/index.js';
import { commandsSent, deleteKeys, keysWithPrefix, sleep, uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
/** Every RedisStore in this file puts its keys under `${prefix}:`. */
const namespace = `${prefix}:`;

const redis = useRedis(prefix);
let store: RedisStore;

beforeAll(async () => {
  store = new RedisStore(await redis.connection(), namespace);
});
afterEach(async () => {
  await deleteKeys(redis.admin(), prefix);
});

describe('RedisStore keys', () => {
  it('puts every key under its namespace, and two namespaces do not see each other', async () => {
    await store.set('shared-name', 'mine');
    expect(await redis.admin().get(`${namespace}shared-name`)).toBe('mine');
    const neighbour = new RedisStore(await redis.connection(), `${prefix}-neighbour:`);
    expect(await neighbour.get('shared-name')).toBeUndefined();
    await neighbour.set('shared-name', 'theirs');
    expect(await store.get('shared-name')).toBe('mine');
    expect(await neighbour.get('shared-name')).toBe('theirs');
  });

  it('leaves no keys outside its namespace', async () => {
    await store.set('x', '1', 10_000);
    await store.listPush('y', ['1'], { ttlMs: 10_000 });
    await store.acquireLock('z', 10_000);
    const keys = await keysWithPrefix(redis.admin(), prefix);
    expect(keys.sort()).toEqual([`${namespace}x`, `${namespace}y`, `${namespace}z`]);
  });

  it('pushing nothing creates no key', async () => {
    await store.listPush('empty', []);
    expect(await redis.admin().exists(`${namespace}empty`)).toBe(0);
  });

  it('a capped push with an expiry is one command (a history append); a very long one still keeps the cap', async () => {
    const connection = await redis.connection();
    const own = new RedisStore(connection, namespace);
    await own.listPush('warm', ['x']); // the first run on a connection loads the script
    expect(await commandsSent(connection, () => own.listPush('history', ['user hi', 'bot hello'], { maxLength: 3, ttlMs: 60_000 }))).toEqual(['evalsha']);
    await own.listPush('history', ['user again', 'bot again'], { maxLength: 3, ttlMs: 60_000 });
    expect(await redis.admin().lrange(`${namespace}history`, 0, -1)).toEqual(['bot hello', 'user again', 'bot again']);
    expect(await redis.admin().pttl(`${namespace}history`)).toBeGreaterThan(59_000);
    const many = Array.from({ length: 2500 }, (_, i) => `v${i}`);
    await own.listPush('long', many, { maxLength: 2000 });
    expect(await own.listRange('long', 0, -1)).toEqual(many.slice(500));
  });

  it('a list whose TTL ran out is gone, not left empty', async () => {
    await store.listPush('l', ['a'], { ttlMs: 50 });
    await sleep(100);
    expect(await redis.admin().exists(`${namespace}l`)).toBe(0);
  });
});

describe('RedisStore expiries (PTTL)', () => {
  it('a TTL is in milliseconds', async () => {
    // Seconds would read as 2,000,000; long enough for the PTTL right after to land inside it on a loaded machine.
    await store.set('k', 'v', 2000);
    const pttl = await redis.admin().pttl(`${namespace}k`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(2000);
  });

  it('no expiry for a value set without TTL, with TTL 0, re-set without TTL, or claimed without TTL', async () => {
    await store.set('forever', 'x');
    await store.set('zero', 'y', 0);
    await store.set('cleared', 'a', 100);
    await store.set('cleared', 'b');
    await store.setIfAbsent('claim', 'c');
    for (const key of ['forever', 'zero', 'cleared', 'claim']) expect(await redis.admin().pttl(`${namespace}${key}`)).toBe(-1);
  });

  it('extending a lock sets the TTL it is given', async () => {
    const token = (await store.acquireLock('lock', 2000)) as string; // the extend lands inside it on a loaded machine
    expect(await store.extendLock('lock', token, 10_000)).toBe(true);
    const pttl = await redis.admin().pttl(`${namespace}lock`);
    expect(pttl).toBeGreaterThan(5000);
    expect(pttl).toBeLessThanOrEqual(10_000);
  });

  it("a lost owner's extend does not shorten the new owner's lock", async () => {
    const old = (await store.acquireLock('lock', 50)) as string;
    await sleep(100);
    const current = (await store.acquireLock('lock', 5000)) as string;
    expect(await store.extendLock('lock', old, 1000)).toBe(false);
    expect(await store.get('lock')).toBe(current);
    expect(await redis.admin().pttl(`${namespace}lock`)).toBeGreaterThan(4000);
  });
});
