/**
 * Rate limits and the AI response cache on a real Redis, shared by several "processes" (here:
 * separate connections, each with its own limiter or cache instance, as separate processes have).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisResponseCache } from '../../src/ai/index.js';
import type { AiResult } from '../../src/ai/types.js';
import { createRedisLimiter, type Limiter, type LimitOptions } from '../../src/limit/index.js';
import { connectRedis, whenReady, type RedisClient } from '../../src/store/index.js';
import { REDIS_URL, deleteKeys, keysWithPrefix, requireRedis, sleep, uniquePrefix } from './redis-helpers.js';

const prefix = uniquePrefix();
let admin: Redis;
/** Two connections: what two processes sharing one Redis would each have. */
let processA: RedisClient;
let processB: RedisClient;
const connections: RedisClient[] = [];
let limitCounter = 0;

async function connection(): Promise<RedisClient> {
  const redis = connectRedis(REDIS_URL);
  redis.on('error', () => undefined);
  connections.push(redis);
  await whenReady(redis, 2000);
  return redis;
}

/** The same limit (same key prefix) as each of the two processes builds it. */
function sharedLimit(points: number, durationSeconds = 60): [Limiter, Limiter, LimitOptions] {
  limitCounter++;
  const options: LimitOptions = { points, durationSeconds, keyPrefix: `${prefix}-limit-${limitCounter}` };
  return [createRedisLimiter(processA, options), createRedisLimiter(processB, options), options];
}

beforeAll(async () => {
  admin = await requireRedis();
  processA = await connection();
  processB = await connection();
});

afterAll(async () => {
  for (const redis of connections) redis.disconnect();
  if (!admin) return;
  await deleteKeys(admin, prefix);
  admin.disconnect();
});

describe('createRedisLimiter', () => {
  it('shares N points between two processes: the (N+1)th consume is refused with a retry-after', async () => {
    const [a, b] = sharedLimit(5, 60);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await (i % 2 === 0 ? a : b).consume('slack:U1'));
    expect(results.every((result) => result.allowed)).toBe(true);
    for (const limiter of [a, b]) {
      const refused = await limiter.consume('slack:U1');
      expect(refused.allowed).toBe(false);
      if (refused.allowed) continue;
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
  });

  it('allows exactly N of many concurrent consumes from both processes', async () => {
    const [a, b] = sharedLimit(10, 60);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).consume('ai:global')));
    expect(results.filter((result) => result.allowed)).toHaveLength(10);
  });

  it('counts each key separately, and each limit separately', async () => {
    const [a, b] = sharedLimit(2, 60);
    const [other] = sharedLimit(2, 60);
    expect((await a.consume('user-1')).allowed).toBe(true);
    expect((await b.consume('user-1')).allowed).toBe(true);
    expect((await a.consume('user-1')).allowed).toBe(false);
    expect((await b.consume('user-2')).allowed).toBe(true);
    expect((await other.consume('user-1')).allowed).toBe(true);
  });

  it('consumes several points at once', async () => {
    const [a, b] = sharedLimit(5, 60);
    expect(await a.consume('tenant-1', 5)).toEqual({ allowed: true });
    expect((await b.consume('tenant-1', 1)).allowed).toBe(false);
    expect((await a.consume('tenant-2', 6)).allowed).toBe(false);
  });

  it('allows again once the window has passed', async () => {
    const [a, b] = sharedLimit(2, 1);
    expect((await a.consume('k')).allowed).toBe(true);
    expect((await b.consume('k')).allowed).toBe(true);
    const refused = await a.consume('k');
    expect(refused.allowed).toBe(false);
    const wait = refused.allowed ? 0 : refused.retryAfterMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1000);
    await sleep(wait + 100);
    expect((await b.consume('k')).allowed).toBe(true);
  });

  it('keeps its counters in Redis under its key prefix, expiring with the window', async () => {
    const [a, , options] = sharedLimit(3, 60);
    await a.consume('slack:T1');
    const keys = await keysWithPrefix(admin, options.keyPrefix);
    expect(keys).toEqual([`${options.keyPrefix}:slack:T1`]);
    const pttl = await admin.pttl(keys[0] as string);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('falls back to the in-memory insurance limiter while Redis is unreachable', async () => {
    const down = await connection();
    down.disconnect(); // as if Redis went away: the limiter must neither throw nor let everyone through
    const options: LimitOptions = { points: 3, durationSeconds: 60, keyPrefix: `${prefix}-limit-insured` };
    const limiter = createRedisLimiter(down, options);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.consume('user-1'));
    expect(results.map((result) => result.allowed)).toEqual([true, true, true, false]);
    expect(await keysWithPrefix(admin, options.keyPrefix)).toEqual([]);
  });
});

describe('RedisResponseCache', () => {
  const result: AiResult = { text: 'Hello there — ça va? 👋', model: 'gpt-4o-mini-2024-07-18', usage: { inputTokens: 12, outputTokens: 7, costUsd: 0.000123 }, cached: false };

  it('returns what was set, and undefined for an unknown key', async () => {
    const cache = new RedisResponseCache(processA, `${prefix}:ai-cache:`);
    await cache.set('k1', result, 60_000);
    expect(await cache.get('k1')).toEqual(result);
    expect(await cache.get('unknown')).toBeUndefined();
  });

  it('is shared: what one process caches, another reads', async () => {
    const writer = new RedisResponseCache(processA, `${prefix}:ai-cache:`);
    const reader = new RedisResponseCache(processB, `${prefix}:ai-cache:`);
    await writer.set('shared', result, 60_000);
    expect(await reader.get('shared')).toEqual(result);
    // another prefix (another bot on the same Redis) does not see it
    expect(await new RedisResponseCache(processB, `${prefix}:other-bot:`).get('shared')).toBeUndefined();
  });

  it('expires entries after their TTL', async () => {
    const cache = new RedisResponseCache(processA, `${prefix}:ai-cache:`);
    // Long enough for the reads right after to land inside it on a loaded CI machine (300 ms may not).
    const setAt = Date.now();
    await cache.set('short', result, 2000);
    const pttl = await admin.pttl(`${prefix}:ai-cache:short`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(2000);
    expect(await cache.get('short')).toEqual(result);
    await sleep(setAt + 2100 - Date.now()); // past the TTL
    expect(await cache.get('short')).toBeUndefined();
  });

  it('a later set replaces the entry and its TTL', async () => {
    const cache = new RedisResponseCache(processA, `${prefix}:ai-cache:`);
    await cache.set('k', result, 200);
    const newer = { ...result, text: 'newer' };
    await cache.set('k', newer, 60_000);
    await sleep(300);
    expect(await cache.get('k')).toEqual(newer);
  });
});
