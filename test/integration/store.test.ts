/**
 * The Store contract (store-contract.ts), run over MemoryStore and RedisStore (on a real Redis),
 * then the two side by side on the same operations. What only one of them does is in
 * memory-store.test.ts and redis-store.test.ts; DynamoStore runs the same contract in
 * dynamodb-store.test.ts.
 */
import { afterEach, vi } from 'vitest';
import { MemoryStore, RedisStore, type Store } from '../../src/store/index.js';
import { sleep, uniquePrefix, useRedis } from './redis-helpers.js';
import { describeStoreContract, type StoreImplementation } from './store-contract.js';
import { describeSameAsMemory } from './store-scenarios.js';

const prefix = uniquePrefix();
const { connection } = useRedis(prefix);
let counter = 0;
const opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

const memory: StoreImplementation = {
  async create(peers = 0) {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new MemoryStore();
    opened.push(store);
    return { store, peers: Array.from({ length: peers }, () => store) };
  },
  advance: async (ms) => void vi.advanceTimersByTime(ms),
  margin: 0,
  longest: 365 * 24 * 3600 * 1000,
};

const redis: StoreImplementation = {
  async create(peers = 0) {
    counter++;
    const namespace = `${prefix}:${counter}:`;
    const store = new RedisStore(await connection(), namespace);
    // another process: its own connection, the same namespace
    return { store, peers: await Promise.all(Array.from({ length: peers }, async () => new RedisStore(await connection(), namespace))) };
  },
  advance: sleep,
  // Room for a loaded CI machine: 100 ms was not, a read meant to land inside a TTL came after it.
  margin: 500,
  longest: 200,
};

describeStoreContract('memory', memory);
describeStoreContract('Redis', redis);
describeSameAsMemory('RedisStore', async () => (await redis.create()).store, (store) => opened.push(store));
