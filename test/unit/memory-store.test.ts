import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../src/store/index.js';

let store: MemoryStore;
beforeEach(() => {
  store = new MemoryStore();
});
afterEach(async () => {
  vi.useRealTimers();
  await store.close();
});

describe('MemoryStore key-value', () => {
  it('gets what was set, and undefined for unknown or deleted keys', async () => {
    await store.set('a', '1');
    expect(await store.get('a')).toBe('1');
    expect(await store.get('b')).toBeUndefined();
    await store.set('a', '2');
    expect(await store.get('a')).toBe('2');
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
  });

  it('expires a value after its TTL', async () => {
    vi.useFakeTimers();
    await store.set('k', 'v', 1000);
    vi.advanceTimersByTime(999);
    expect(await store.get('k')).toBe('v');
    vi.advanceTimersByTime(1);
    expect(await store.get('k')).toBeUndefined();
  });

  it('keeps a value without TTL (or TTL 0) forever', async () => {
    vi.useFakeTimers();
    await store.set('forever', 'x');
    await store.set('zero', 'y', 0);
    vi.advanceTimersByTime(365 * 24 * 3600 * 1000);
    expect(await store.get('forever')).toBe('x');
    expect(await store.get('zero')).toBe('y');
  });

  it('set without a TTL clears an earlier TTL', async () => {
    vi.useFakeTimers();
    await store.set('k', 'a', 100);
    await store.set('k', 'b');
    vi.advanceTimersByTime(1000);
    expect(await store.get('k')).toBe('b');
  });

  it('setIfAbsent claims a key once, and again after it expired or was deleted', async () => {
    vi.useFakeTimers();
    expect(await store.setIfAbsent('claim', 'first', 500)).toBe(true);
    expect(await store.setIfAbsent('claim', 'second', 500)).toBe(false);
    expect(await store.get('claim')).toBe('first');
    vi.advanceTimersByTime(500);
    expect(await store.setIfAbsent('claim', 'third', 500)).toBe(true);
    expect(await store.get('claim')).toBe('third');
    await store.delete('claim');
    expect(await store.setIfAbsent('claim', 'fourth')).toBe(true);
  });

  it('setIfAbsent is atomic among concurrent callers: exactly one wins', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setIfAbsent('race', String(i))));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('get on a list key is undefined', async () => {
    await store.listPush('l', ['a']);
    expect(await store.get('l')).toBeUndefined();
  });
});

describe('MemoryStore lists', () => {
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
    expect(await store.listRange('missing', 0, -1)).toEqual([]);
  });

  it('a negative stop before the start of the list gives an empty range (as Redis LRANGE does)', async () => {
    await store.listPush('l', ['a', 'b', 'c']);
    // Redis: LRANGE l 0 -4 → stop is before index 0 → (empty list)
    expect(await store.listRange('l', 0, -4)).toEqual([]);
    // Redis: LRANGE l 0 -5 → (empty list). Bug: slice(0, -1) keeps ['a','b'].
    expect(await store.listRange('l', 0, -5)).toEqual([]);
    expect(await store.listRange('l', -10, -6)).toEqual([]);
  });

  it('keeps only the newest maxLength items', async () => {
    await store.listPush('l', ['1', '2', '3'], { maxLength: 4 });
    await store.listPush('l', ['4', '5', '6'], { maxLength: 4 });
    expect(await store.listRange('l', 0, -1)).toEqual(['3', '4', '5', '6']);
  });

  it('expires a list after its TTL and refreshes the TTL on each push', async () => {
    vi.useFakeTimers();
    await store.listPush('l', ['a'], { ttlMs: 1000 });
    vi.advanceTimersByTime(800);
    await store.listPush('l', ['b'], { ttlMs: 1000 });
    vi.advanceTimersByTime(800);
    expect(await store.listRange('l', 0, -1)).toEqual(['a', 'b']);
    vi.advanceTimersByTime(200);
    expect(await store.listRange('l', 0, -1)).toEqual([]);
  });

  it('a push onto a string key replaces it with a list', async () => {
    await store.set('k', 'plain');
    await store.listPush('k', ['x']);
    expect(await store.listRange('k', 0, -1)).toEqual(['x']);
  });
});

describe('MemoryStore locks', () => {
  it('only one owner at a time; release needs the owner token', async () => {
    const token = await store.acquireLock('lock', 1000);
    expect(token).toBeTypeOf('string');
    expect(await store.acquireLock('lock', 1000)).toBeUndefined();
    expect(await store.releaseLock('lock', 'not-the-token')).toBe(false);
    expect(await store.acquireLock('lock', 1000)).toBeUndefined();
    expect(await store.releaseLock('lock', token as string)).toBe(true);
    const next = await store.acquireLock('lock', 1000);
    expect(next).toBeTypeOf('string');
    expect(next).not.toBe(token);
  });

  it('a lock expires after its TTL; extending it keeps it alive', async () => {
    vi.useFakeTimers();
    const token = (await store.acquireLock('lock', 1000)) as string;
    vi.advanceTimersByTime(900);
    expect(await store.extendLock('lock', token, 1000)).toBe(true);
    vi.advanceTimersByTime(900);
    expect(await store.acquireLock('lock', 1000)).toBeUndefined();
    vi.advanceTimersByTime(100);
    const other = await store.acquireLock('lock', 1000);
    expect(other).toBeTypeOf('string');
  });

  it('extending or releasing a lost lock fails and does not touch the new owner', async () => {
    vi.useFakeTimers();
    const old = (await store.acquireLock('lock', 100)) as string;
    vi.advanceTimersByTime(100);
    expect(await store.extendLock('lock', old, 1000)).toBe(false);
    const current = (await store.acquireLock('lock', 1000)) as string;
    expect(await store.extendLock('lock', old, 1000)).toBe(false);
    expect(await store.releaseLock('lock', old)).toBe(false);
    expect(await store.get('lock')).toBe(current);
    expect(await store.releaseLock('lock', current)).toBe(true);
  });

  it('ping resolves', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
