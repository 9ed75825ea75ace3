/**
 * The Store contract, shared by every Store's test file: values, claims, TTLs, capped lists with
 * LRANGE semantics, and locks with owner tokens. store.test.ts runs it over MemoryStore and
 * RedisStore, dynamodb-store.test.ts over DynamoStore; store-scenarios.ts compares them step by step.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../src/store/index.js';

export interface StoreImplementation {
  /** A fresh, empty store, and `peers` more on the same data (other connections where there are any). */
  create(peers?: number): Promise<{ store: Store; peers: Store[] }>;
  /** Let `ms` pass. */
  advance(ms: number): Promise<void>;
  /**
   * How close to a TTL the tests look: a key is checked `margin` ms before it expires (present)
   * and `margin` ms after (gone). 0 on a fake clock; Redis's real clock needs room: the TTLs below
   * grow by it, so a check meant to land inside a TTL still does when a loaded machine stalls.
   */
  margin: number;
  /** The longest a test lets pass: a year on a fake clock. */
  longest: number;
}

/** The contract's tests over one implementation, as "Store contract (<name>)". */
export function describeStoreContract(name: string, { create, advance, margin, longest }: StoreImplementation): void {
  describe(`Store contract (${name})`, () => {
    /** Let time pass to just before a TTL of `ttlMs` set now runs out (by the margin; to the millisecond on a fake clock). */
    const justBefore = (ttlMs: number) => advance(ttlMs - Math.max(margin, 1));
    /** From `justBefore`, past the TTL (by the margin; to the exact millisecond on a fake clock). */
    const pastIt = () => advance(Math.max(margin, 1) + margin);
    afterEach(() => {
      vi.useRealTimers();
    });

    describe('values', () => {
      it('gets what was set, and undefined for unknown or deleted keys', async () => {
        const { store } = await create();
        await store.set('a', '1');
        expect(await store.get('a')).toBe('1');
        expect(await store.get('b')).toBeUndefined();
        await store.set('a', '2');
        expect(await store.get('a')).toBe('2');
        await store.delete('a');
        expect(await store.get('a')).toBeUndefined();
        await expect(store.delete('never-set')).resolves.toBeUndefined(); // deleting a missing key is not an error
      });

      it('expires a value after its TTL', async () => {
        const { store } = await create();
        await store.set('k', 'v', 300 + margin);
        await justBefore(300 + margin);
        expect(await store.get('k')).toBe('v');
        await pastIt();
        expect(await store.get('k')).toBeUndefined();
      });

      it('keeps a value without TTL or with TTL 0, and a set without TTL clears an earlier TTL', async () => {
        const { store } = await create();
        await store.set('forever', 'x');
        await store.set('zero', 'y', 0);
        await store.set('cleared', 'a', 100);
        await store.set('cleared', 'b');
        await advance(Math.max(longest, 150));
        expect(await store.get('forever')).toBe('x');
        expect(await store.get('zero')).toBe('y');
        expect(await store.get('cleared')).toBe('b');
      });

      it('rounds a fractional TTL up rather than failing', async () => {
        const { store } = await create();
        await store.set('fraction', 'v', 99.2 + margin);
        expect(await store.setIfAbsent('fraction-claim', 'v', 0.4)).toBe(true);
        expect(await store.get('fraction')).toBe('v');
        await advance(100 + 2 * margin);
        expect(await store.get('fraction')).toBeUndefined();
        expect(await store.get('fraction-claim')).toBeUndefined();
      });

      it('setIfAbsent claims a key once, and again after it expired or was deleted', async () => {
        const { store } = await create();
        expect(await store.setIfAbsent('claim', 'first', 150 + margin)).toBe(true);
        expect(await store.setIfAbsent('claim', 'second', 150)).toBe(false);
        expect(await store.get('claim')).toBe('first');
        await advance(150 + 2 * margin);
        expect(await store.setIfAbsent('claim', 'third', 1000)).toBe(true);
        expect(await store.get('claim')).toBe('third');
        await store.delete('claim');
        expect(await store.setIfAbsent('claim', 'fourth')).toBe(true);
        expect(await store.get('claim')).toBe('fourth');
      });

      it('deleteIf (where the store has it) deletes a key only while it holds the value', async () => {
        const { store } = await create();
        if (!store.deleteIf) return;
        await store.set('claim', 'mine', 5000);
        expect(await store.deleteIf('claim', 'theirs')).toBe(false);
        expect(await store.get('claim')).toBe('mine');
        expect(await store.deleteIf('claim', 'mine')).toBe(true);
        expect(await store.get('claim')).toBeUndefined();
        expect(await store.deleteIf('claim', 'mine')).toBe(false);
      });

      it('setIfAbsent is atomic: of 50 concurrent claims (from 5 connections on Redis), exactly one wins', async () => {
        const { store, peers } = await create(4);
        const stores = [store, ...peers];
        for (let round = 0; round < 3; round++) {
          const claims = Array.from({ length: 50 }, (_, i) => (stores[i % stores.length] as Store).setIfAbsent(`race-${round}`, `claimer-${i}`, 5000));
          const results = await Promise.all(claims);
          expect(results.filter(Boolean)).toHaveLength(1);
          expect(await store.get(`race-${round}`)).toBe(`claimer-${results.indexOf(true)}`);
        }
      });

      it('ping resolves', async () => {
        const { store } = await create();
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('lists', () => {
      it('appends in order and reads ranges with LRANGE semantics', async () => {
        const { store } = await create();
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

      it('a negative stop before the start of the list gives an empty range', async () => {
        const { store } = await create();
        await store.listPush('l', ['a', 'b', 'c']);
        // LRANGE l 0 -4: the stop is before index 0 (a slice(0, -1) would keep ['a', 'b'])
        expect(await store.listRange('l', 0, -4)).toEqual([]);
        expect(await store.listRange('l', 0, -5)).toEqual([]);
        expect(await store.listRange('l', -10, -6)).toEqual([]);
      });

      it('keeps only the newest maxLength items', async () => {
        const { store } = await create();
        await store.listPush('l', ['1', '2', '3'], { maxLength: 4 });
        await store.listPush('l', ['4', '5', '6'], { maxLength: 4 });
        expect(await store.listRange('l', 0, -1)).toEqual(['3', '4', '5', '6']);
      });

      it('keeps a history-shaped list (capped, with a TTL): the window the history reads is the newest items, oldest first', async () => {
        const { store } = await create();
        for (let i = 1; i <= 25; i++) await store.listPush('history', [`user ${i}`, `bot ${i}`], { maxLength: 20, ttlMs: 60_000 });
        expect(await store.listRange('history', -2, -1)).toEqual(['user 25', 'bot 25']);
        expect(await store.listRange('history', 0, 0)).toEqual(['user 16']);
        expect(await store.listRange('history', -30, -1)).toHaveLength(20);
      });

      it('expires a list after its TTL and refreshes the TTL on each push', async () => {
        const { store } = await create();
        // The second push lands a margin inside the first's TTL; the read a margin past it.
        const ttlMs = 600 + 3 * margin;
        await store.listPush('l', ['a'], { ttlMs });
        await advance(400 + 2 * margin);
        await store.listPush('l', ['b'], { ttlMs });
        await justBefore(ttlMs); // past the first push's TTL, not the second's
        expect(await store.listRange('l', 0, -1)).toEqual(['a', 'b']);
        await pastIt();
        expect(await store.listRange('l', 0, -1)).toEqual([]);
      });

      it('pushing nothing leaves nothing to read', async () => {
        const { store } = await create();
        await store.listPush('empty', []);
        expect(await store.listRange('empty', 0, -1)).toEqual([]);
      });
    });

    describe('locks', () => {
      it('only one owner at a time; extend and release need the owner token', async () => {
        const { store } = await create();
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

      it('one of many concurrent acquirers (on 4 connections on Redis) gets the lock, and its token releases it from any of them', async () => {
        const { store, peers } = await create(3);
        const stores = [store, ...peers];
        const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => (stores[i % stores.length] as Store).acquireLock('contended', 5000)));
        const winners = tokens.filter((token): token is string => token !== undefined);
        expect(winners).toHaveLength(1);
        expect(await (stores[3] as Store).releaseLock('contended', winners[0] as string)).toBe(true);
        expect(await store.get('contended')).toBeUndefined();
      });

      it('a lock expires after its TTL; extending it keeps it alive', async () => {
        const { store } = await create();
        // The extend lands a margin inside the first TTL; twice just before a TTL is well past it.
        const ttlMs = 600 + 3 * margin;
        const token = (await store.acquireLock('lock', ttlMs)) as string;
        await justBefore(ttlMs);
        expect(await store.extendLock('lock', token, ttlMs)).toBe(true);
        await justBefore(ttlMs); // past the first TTL, not the extended one
        expect(await store.acquireLock('lock', 600)).toBeUndefined();
        await pastIt();
        const other = await store.acquireLock('lock', 600);
        expect(other).toBeTypeOf('string');
        expect(other).not.toBe(token);
      });

      it('extending or releasing a lost lock fails, does not recreate it, and does not touch the new owner', async () => {
        const { store, peers } = await create(1);
        const thief = peers[0] as Store;
        const old = (await store.acquireLock('lock', 100)) as string;
        await advance(100 + margin);
        expect(await store.extendLock('lock', old, 1000)).toBe(false);
        expect(await store.get('lock')).toBeUndefined();
        const current = (await thief.acquireLock('lock', 5000)) as string;
        expect(current).toBeTypeOf('string');
        expect(await store.extendLock('lock', old, 1000)).toBe(false);
        expect(await store.releaseLock('lock', old)).toBe(false);
        expect(await store.get('lock')).toBe(current);
        expect(await thief.releaseLock('lock', current)).toBe(true);
        expect(await store.get('lock')).toBeUndefined();
      });
    });
  });
}
