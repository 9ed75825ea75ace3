/**
 * The Store contract on a real Redis: RedisStore must behave like MemoryStore (its in-memory
 * twin) for everything the bot does — claims, TTLs, capped lists, locks with owner tokens.
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, RedisStore, connectRedis, whenReady, type RedisClient, type Store } from '../../src/store/index.js';
import { REDIS_URL, deleteKeys, keysWithPrefix, requireRedis, sleep, uniquePrefix } from './redis-helpers.js';

const prefix = uniquePrefix();
/** Every RedisStore in this file puts its keys under `${prefix}:`. */
const namespace = `${prefix}:`;

let admin: Redis;
let connection: RedisClient;
let store: RedisStore;
const extraConnections: RedisClient[] = [];

/** Another store on its own connection, as another process would have. */
async function otherProcessStore(ns = namespace): Promise<RedisStore> {
  const redis = connectRedis(REDIS_URL);
  redis.on('error', () => undefined);
  extraConnections.push(redis);
  await whenReady(redis, 2000);
  return new RedisStore(redis, ns);
}

beforeAll(async () => {
  admin = await requireRedis();
  connection = connectRedis(REDIS_URL);
  connection.on('error', () => undefined);
  await whenReady(connection, 2000);
  store = new RedisStore(connection, namespace);
});

afterEach(async () => {
  await deleteKeys(admin, prefix);
});

afterAll(async () => {
  await store?.close();
  for (const redis of extraConnections) redis.disconnect();
  if (admin) {
    await deleteKeys(admin, prefix);
    admin.disconnect();
  }
});

describe('RedisStore key-value', () => {
  it('gets what was set, and undefined for unknown or deleted keys', async () => {
    await store.set('a', '1');
    expect(await store.get('a')).toBe('1');
    expect(await store.get('b')).toBeUndefined();
    await store.set('a', '2');
    expect(await store.get('a')).toBe('2');
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    await store.delete('never-set'); // deleting a missing key is not an error
  });

  it('puts every key under its namespace, and two namespaces do not see each other', async () => {
    await store.set('shared-name', 'mine');
    expect(await admin.get(`${namespace}shared-name`)).toBe('mine');
    const neighbour = await otherProcessStore(`${prefix}-neighbour:`);
    expect(await neighbour.get('shared-name')).toBeUndefined();
    await neighbour.set('shared-name', 'theirs');
    expect(await store.get('shared-name')).toBe('mine');
    expect(await neighbour.get('shared-name')).toBe('theirs');
  });

  it('expires a value after its TTL', async () => {
    await store.set('k', 'v', 150);
    const pttl = await admin.pttl(`${namespace}k`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(150);
    expect(await store.get('k')).toBe('v');
    await sleep(200);
    expect(await store.get('k')).toBeUndefined();
  });

  it('keeps a value without TTL (or with TTL 0), and a set without TTL clears an earlier TTL', async () => {
    await store.set('forever', 'x');
    await store.set('zero', 'y', 0);
    await store.set('cleared', 'a', 100);
    await store.set('cleared', 'b');
    expect(await admin.pttl(`${namespace}forever`)).toBe(-1);
    expect(await admin.pttl(`${namespace}zero`)).toBe(-1);
    expect(await admin.pttl(`${namespace}cleared`)).toBe(-1);
    await sleep(150);
    expect(await store.get('cleared')).toBe('b');
  });

  it('rounds a fractional TTL up rather than failing', async () => {
    await store.set('fraction', 'v', 99.2);
    expect(await store.setIfAbsent('fraction-claim', 'v', 0.4)).toBe(true);
    expect(await store.get('fraction')).toBe('v');
    await sleep(150);
    expect(await store.get('fraction')).toBeUndefined();
    expect(await store.get('fraction-claim')).toBeUndefined();
  });

  it('setIfAbsent claims a key once, and again after it expired or was deleted', async () => {
    expect(await store.setIfAbsent('claim', 'first', 150)).toBe(true);
    expect(await store.setIfAbsent('claim', 'second', 150)).toBe(false);
    expect(await store.get('claim')).toBe('first');
    await sleep(200);
    expect(await store.setIfAbsent('claim', 'third', 1000)).toBe(true);
    expect(await store.get('claim')).toBe('third');
    await store.delete('claim');
    expect(await store.setIfAbsent('claim', 'fourth')).toBe(true);
    expect(await admin.pttl(`${namespace}claim`)).toBe(-1);
  });

  it('setIfAbsent is atomic: 50 concurrent claims from 5 connections, exactly one wins', async () => {
    const stores: Store[] = [store, ...(await Promise.all([1, 2, 3, 4].map(() => otherProcessStore())))];
    for (let round = 0; round < 3; round++) {
      const claims = Array.from({ length: 50 }, (_, i) => (stores[i % stores.length] as Store).setIfAbsent(`race-${round}`, `claimer-${i}`, 5000));
      const results = await Promise.all(claims);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await store.get(`race-${round}`)).toBe(`claimer-${winner}`);
    }
  });

  it('ping resolves', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('RedisStore lists', () => {
  it('appends in order and reads ranges with LRANGE semantics', async () => {
    await store.listPush('l', ['a', 'b']);
    await store.listPush('l', ['c', 'd', 'e']);
    expect(await store.listRange('l', 0, -1)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await store.listRange('l', 1, 2)).toEqual(['b', 'c']);
    expect(await store.listRange('l', -2, -1)).toEqual(['d', 'e']);
    expect(await store.listRange('l', -100, 1)).toEqual(['a', 'b']);
    expect(await store.listRange('l', 3, 100)).toEqual(['d', 'e']);
    expect(await store.listRange('l', 10, 20)).toEqual([]);
    expect(await store.listRange('l', 3, 1)).toEqual([]);
    expect(await store.listRange('l', 0, -6)).toEqual([]);
    expect(await store.listRange('missing', 0, -1)).toEqual([]);
  });

  it('keeps only the newest maxLength items', async () => {
    await store.listPush('l', ['1', '2', '3'], { maxLength: 4 });
    await store.listPush('l', ['4', '5', '6'], { maxLength: 4 });
    expect(await store.listRange('l', 0, -1)).toEqual(['3', '4', '5', '6']);
    expect(await admin.llen(`${namespace}l`)).toBe(4);
  });

  it('expires a list after its TTL and refreshes the TTL on each push', async () => {
    await store.listPush('l', ['a'], { ttlMs: 600 });
    await sleep(400);
    await store.listPush('l', ['b'], { ttlMs: 600 });
    await sleep(300);
    // 700 ms after the first push, but only 300 ms after the second: still there
    expect(await store.listRange('l', 0, -1)).toEqual(['a', 'b']);
    await sleep(400);
    expect(await store.listRange('l', 0, -1)).toEqual([]);
    expect(await admin.exists(`${namespace}l`)).toBe(0);
  });

  it('pushing nothing is a no-op', async () => {
    await store.listPush('empty', []);
    expect(await admin.exists(`${namespace}empty`)).toBe(0);
    expect(await store.listRange('empty', 0, -1)).toEqual([]);
  });

  it('keeps history-shaped lists (capped, with TTL) on both stores alike', async () => {
    const memory = new MemoryStore();
    try {
      for (const s of [store, memory] as Store[]) {
        for (let i = 1; i <= 25; i++) await s.listPush('history', [`user ${i}`, `bot ${i}`], { maxLength: 20, ttlMs: 60_000 });
      }
      // the window the history reads: the newest N, oldest first
      for (const n of [1, 5, 20, 30]) {
        expect(await store.listRange('history', -n, -1)).toEqual(await memory.listRange('history', -n, -1));
      }
      expect(await store.listRange('history', -2, -1)).toEqual(['user 25', 'bot 25']);
      expect(await store.listRange('history', 0, 0)).toEqual(['user 16']);
    } finally {
      await memory.close();
    }
  });
});

/** One step against a Store, and what it returned (for comparing two implementations). */
type Operation =
  | { op: 'push'; key: string; values: string[]; maxLength?: number }
  | { op: 'range'; key: string; start: number; stop: number }
  | { op: 'set'; key: string; value: string }
  | { op: 'claim'; key: string; value: string }
  | { op: 'get'; key: string }
  | { op: 'delete'; key: string };

async function apply(target: Store, step: Operation): Promise<unknown> {
  switch (step.op) {
    case 'push':
      return target.listPush(step.key, step.values, step.maxLength === undefined ? {} : { maxLength: step.maxLength });
    case 'range':
      return target.listRange(step.key, step.start, step.stop);
    case 'set':
      return target.set(step.key, step.value);
    case 'claim':
      return target.setIfAbsent(step.key, step.value);
    case 'get':
      return target.get(step.key);
    case 'delete':
      return target.delete(step.key);
  }
}

/** Every (start, stop) pair in [-len-2, len+1]: all the in-range, negative and out-of-range cases. */
function everyRange(key: string, length: number): Operation[] {
  const steps: Operation[] = [];
  for (let start = -length - 2; start <= length + 1; start++) {
    for (let stop = -length - 2; stop <= length + 1; stop++) steps.push({ op: 'range', key, start, stop });
  }
  return steps;
}

const scenarios: Array<{ name: string; steps: Operation[] }> = [
  {
    name: 'a list of five, every range',
    steps: [{ op: 'push', key: 'five', values: ['a', 'b', 'c'] }, { op: 'push', key: 'five', values: ['d', 'e'] }, ...everyRange('five', 5)],
  },
  {
    name: 'a one-item list and a missing list, every range',
    steps: [{ op: 'push', key: 'one', values: ['only'] }, ...everyRange('one', 1), ...everyRange('none', 0)],
  },
  {
    name: 'trimmed pushes',
    steps: [
      { op: 'push', key: 't', values: ['1', '2', '3', '4', '5'], maxLength: 3 },
      { op: 'range', key: 't', start: 0, stop: -1 },
      { op: 'push', key: 't', values: ['6'], maxLength: 3 },
      { op: 'range', key: 't', start: 0, stop: -1 },
      { op: 'push', key: 't', values: ['7', '8'], maxLength: 1 },
      { op: 'range', key: 't', start: 0, stop: -1 },
      { op: 'push', key: 't', values: ['9', '10', '11'] },
      { op: 'range', key: 't', start: 0, stop: -1 },
      { op: 'push', key: 't', values: ['12', '13', '14', '15'], maxLength: 4 },
      ...everyRange('t', 4),
      { op: 'delete', key: 't' },
      { op: 'range', key: 't', start: 0, stop: -1 },
      { op: 'push', key: 't', values: ['fresh'], maxLength: 2 },
      { op: 'range', key: 't', start: 0, stop: -1 },
    ],
  },
  {
    name: 'values and claims',
    steps: [
      { op: 'get', key: 'v' },
      { op: 'claim', key: 'v', value: 'first' },
      { op: 'claim', key: 'v', value: 'second' },
      { op: 'get', key: 'v' },
      { op: 'set', key: 'v', value: 'third' },
      { op: 'get', key: 'v' },
      { op: 'claim', key: 'v', value: 'fourth' },
      { op: 'delete', key: 'v' },
      { op: 'get', key: 'v' },
      { op: 'claim', key: 'v', value: 'fifth' },
      { op: 'get', key: 'v' },
      { op: 'set', key: 'empty-string', value: '' },
      { op: 'get', key: 'empty-string' },
      { op: 'claim', key: 'empty-string', value: 'x' },
      { op: 'set', key: 'unicode ключ 🔑', value: 'välue ✓' },
      { op: 'get', key: 'unicode ключ 🔑' },
    ],
  },
];

describe('RedisStore and MemoryStore give the same results for the same operations', () => {
  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const memory = new MemoryStore();
      try {
        const fromRedis: unknown[] = [];
        const fromMemory: unknown[] = [];
        for (const step of scenario.steps) {
          fromRedis.push(await apply(store, step));
          fromMemory.push(await apply(memory, step));
        }
        const differences = scenario.steps
          .map((step, i) => ({ step, redis: fromRedis[i], memory: fromMemory[i] }))
          .filter(({ redis, memory: mem }) => JSON.stringify(redis) !== JSON.stringify(mem));
        expect(differences).toEqual([]);
      } finally {
        await memory.close();
      }
    });
  }
});

describe('RedisStore locks', () => {
  it('only one owner at a time; release needs the owner token', async () => {
    const token = await store.acquireLock('lock', 5000);
    expect(token).toBeTypeOf('string');
    expect(await store.acquireLock('lock', 5000)).toBeUndefined();
    expect(await store.releaseLock('lock', 'not-the-token')).toBe(false);
    expect(await store.extendLock('lock', 'not-the-token', 5000)).toBe(false);
    expect(await store.acquireLock('lock', 5000)).toBeUndefined();
    expect(await store.releaseLock('lock', token as string)).toBe(true);
    expect(await store.releaseLock('lock', token as string)).toBe(false);
    const next = await store.acquireLock('lock', 5000);
    expect(next).toBeTypeOf('string');
    expect(next).not.toBe(token);
  });

  it('one of many concurrent acquirers on different connections gets the lock', async () => {
    const stores: Store[] = [store, ...(await Promise.all([1, 2, 3].map(() => otherProcessStore())))];
    const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => (stores[i % stores.length] as Store).acquireLock('contended', 5000)));
    const winners = tokens.filter((token): token is string => token !== undefined);
    expect(winners).toHaveLength(1);
    // whoever holds the token can release it from any connection (another process of the same owner)
    expect(await (stores[3] as Store).releaseLock('contended', winners[0] as string)).toBe(true);
  });

  it('a lock expires after its TTL; extending it keeps it alive', async () => {
    const token = (await store.acquireLock('lock', 600)) as string;
    await sleep(400);
    expect(await store.extendLock('lock', token, 600)).toBe(true);
    await sleep(300);
    // 700 ms after acquiring, 300 ms after the heartbeat: still held
    expect(await store.acquireLock('lock', 600)).toBeUndefined();
    await sleep(400);
    const other = await store.acquireLock('lock', 600);
    expect(other).toBeTypeOf('string');
    expect(other).not.toBe(token);
  });

  it('extend sets the TTL it is given', async () => {
    const token = (await store.acquireLock('lock', 200)) as string;
    expect(await store.extendLock('lock', token, 10_000)).toBe(true);
    const pttl = await admin.pttl(`${namespace}lock`);
    expect(pttl).toBeGreaterThan(5000);
    expect(pttl).toBeLessThanOrEqual(10_000);
  });

  it('extending or releasing a lost lock fails and does not touch the new owner', async () => {
    const old = (await store.acquireLock('lock', 100)) as string;
    await sleep(150);
    expect(await store.extendLock('lock', old, 1000)).toBe(false);
    expect(await admin.exists(`${namespace}lock`)).toBe(0); // a failed extend does not recreate it
    const thief = await otherProcessStore();
    const current = (await thief.acquireLock('lock', 5000)) as string;
    expect(current).toBeTypeOf('string');
    expect(await store.extendLock('lock', old, 1000)).toBe(false);
    expect(await store.releaseLock('lock', old)).toBe(false);
    expect(await store.get('lock')).toBe(current);
    const pttl = await admin.pttl(`${namespace}lock`);
    expect(pttl).toBeGreaterThan(4000); // the old owner's extend did not shorten it
    expect(await thief.releaseLock('lock', current)).toBe(true);
    expect(await store.get('lock')).toBeUndefined();
  });

  it('leaves no keys outside its namespace', async () => {
    await store.set('x', '1', 10_000);
    await store.listPush('y', ['1'], { ttlMs: 10_000 });
    await store.acquireLock('z', 10_000);
    const keys = await keysWithPrefix(admin, prefix);
    expect(keys.sort()).toEqual([`${namespace}x`, `${namespace}y`, `${namespace}z`]);
  });
});
