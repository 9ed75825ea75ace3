/**
 * What only the in-process store does. The Store contract it shares with RedisStore is in
 * test/integration/store.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/index.js';

let store: MemoryStore;
beforeEach(() => {
  store = new MemoryStore();
});
afterEach(async () => {
  await store.close();
});

// Redis answers both of these with WRONGTYPE (RedisStore throws): a key holds a value or a list, never both.
describe('MemoryStore with a key used both as a value and as a list', () => {
  it('get on a list key is undefined', async () => {
    await store.listPush('l', ['a']);
    expect(await store.get('l')).toBeUndefined();
  });

  it('a push onto a value key replaces it with a list', async () => {
    await store.set('k', 'plain');
    await store.listPush('k', ['x']);
    expect(await store.listRange('k', 0, -1)).toEqual(['x']);
  });
});
