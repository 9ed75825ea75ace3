/**
 * The ConversationLog contract (conversation-log-contract.ts) over MemoryConversationLog and
 * RedisConversationLog on a real Redis, then what only the Redis log does: its key layout, a
 * shared index across connections, expiry, and caps.
 */
import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ConfigError, MemoryConversationLog, RedisConversationLog, type ConversationLog } from '../../src/index.js';
import { describeConversationLogContract, exchange, FIXTURE } from './conversation-log-contract.js';
import { commandsSent, keysWithPrefix, uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix); // deletes every key under `prefix` after the file
let counter = 0;

/** A log of its own prefix (under the file's), on a connection of its own. */
async function redisLog(options: { maxEntries?: number; ttlSeconds?: number } = {}, logPrefix = `${prefix}:${++counter}`) {
  return new RedisConversationLog(await redis.connection(), { prefix: logPrefix, ...options });
}

describeConversationLogContract('memory', async () => new MemoryConversationLog(), { erase: true });
describeConversationLogContract('Redis', () => redisLog(), { erase: true });

describe('MemoryConversationLog', () => {
  it('searches only the newest `maxEntries` exchanges it keeps', async () => {
    const log = new MemoryConversationLog(2);
    for (const entry of FIXTURE) await log.record(entry); // keeps web-1 at 6 and slack-1 at 5
    expect((await log.search({})).map((s) => [s.conversationId, s.exchanges])).toEqual([
      ['web-1', 1],
      ['slack-1', 1],
    ]);
  });
});

describe('RedisConversationLog', () => {
  it("keeps a list per conversation and one index, under `<prefix>:convlog:`, each entry's JSON", async () => {
    const log = await redisLog();
    for (const entry of FIXTURE) await log.record(entry);
    const keys = await keysWithPrefix(redis.admin(), `${log.prefix}:`);
    expect(keys.sort()).toEqual([`${log.prefix}:convlog:c:slack-1`, `${log.prefix}:convlog:c:wa-1`, `${log.prefix}:convlog:c:web-1`, `${log.prefix}:convlog:recent`]);
    expect(log.conversationKey('slack-1')).toBe(`${log.prefix}:convlog:c:slack-1`);
    expect(log.indexKey).toBe(`${log.prefix}:convlog:recent`);
    expect((await redis.admin().lrange(`${log.prefix}:convlog:c:wa-1`, 0, -1)).map((v) => JSON.parse(v))).toEqual([FIXTURE[3]]);
    // the index: newest first
    expect((await redis.admin().lrange(`${log.prefix}:convlog:recent`, 0, -1)).map((v) => JSON.parse(v))).toEqual([...FIXTURE].reverse());
  });

  it('records an exchange in one command (both lists, their caps and expiries)', async () => {
    const connection = await redis.connection();
    const log = new RedisConversationLog(connection, { prefix: `${prefix}:${++counter}` });
    await log.record(FIXTURE[0]!); // the first run on a connection loads the script
    expect(await commandsSent(connection, () => log.record(FIXTURE[1]!))).toEqual(['evalsha']);
    expect(await log.list(FIXTURE[1]!.conversationId)).toContainEqual(FIXTURE[1]);
    expect(await redis.admin().ttl(log.indexKey)).toBeGreaterThan(29 * 24 * 3600);
  });

  it("two logs on two connections (two processes) share the index and each other's conversations", async () => {
    const shared = `${prefix}:shared`;
    const one = await redisLog({}, shared);
    const other = await redisLog({}, shared);
    await one.record(FIXTURE[0]!);
    await other.record(FIXTURE[1]!);
    await other.record(FIXTURE[3]!);
    for (const log of [one, other]) {
      expect(await log.list('slack-1')).toEqual([FIXTURE[0], FIXTURE[1]]);
      expect((await log.search({})).map((s) => [s.conversationId, s.exchanges])).toEqual([
        ['wa-1', 1],
        ['slack-1', 2],
      ]);
    }
  });

  it("a conversation's entries expire `ttlSeconds` after its latest exchange (30 days by default), and so does the index", async () => {
    const log = await redisLog({ ttlSeconds: 3600 });
    await log.record(FIXTURE[0]!);
    const ttl = await redis.admin().ttl(log.conversationKey('slack-1'));
    expect(ttl).toBeGreaterThan(3590);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(await redis.admin().ttl(log.indexKey)).toBeGreaterThan(3590);

    const byDefault = await redisLog();
    await byDefault.record(FIXTURE[0]!);
    const thirtyDays = 30 * 24 * 3600;
    expect(await redis.admin().ttl(byDefault.conversationKey('slack-1'))).toBeGreaterThan(thirtyDays - 10);
    expect(await redis.admin().ttl(byDefault.conversationKey('slack-1'))).toBeLessThanOrEqual(thirtyDays);
  });

  it('caps the index at `maxEntries`: search sees only the newest, list still has the whole conversation', async () => {
    const log = await redisLog({ maxEntries: 3 });
    for (const entry of FIXTURE) await log.record(entry);
    expect(await redis.admin().llen(log.indexKey)).toBe(3);
    // the index holds seconds 4, 5, 6: wa-1, slack-1's third exchange, web-1's second
    expect((await log.search({})).map((s) => [s.conversationId, s.exchanges, s.firstAt])).toEqual([
      ['web-1', 1, FIXTURE[5]!.timestamp],
      ['slack-1', 1, FIXTURE[4]!.timestamp],
      ['wa-1', 1, FIXTURE[3]!.timestamp],
    ]);
    expect(await log.list('slack-1')).toHaveLength(3);
  });

  it('keeps the newest 500 entries of a conversation', async () => {
    const log = await redisLog();
    // one connection sends them in order
    await Promise.all(Array.from({ length: 506 }, (_, n) => log.record(exchange('long', n))));
    expect(await redis.admin().llen(log.conversationKey('long'))).toBe(500);
    const all = await log.list('long', 1000);
    expect(all).toHaveLength(500);
    expect([all[0]!.input, all[499]!.input]).toEqual(['question 6', 'question 505']);
  });

  it('skips an index entry that is not an exchange rather than failing the search', async () => {
    const log = await redisLog();
    await log.record(FIXTURE[0]!);
    await redis.admin().lpush(log.indexKey, 'not json', '{"conversationId":"half"}', 'null');
    await log.record(FIXTURE[3]!);
    expect((await log.search({})).map((s) => s.conversationId)).toEqual(['wa-1', 'slack-1']);
  });

  it('leaves the connection it was given open: it has no close for bot.close() to call', async () => {
    const connection = await redis.connection();
    const log: ConversationLog = new RedisConversationLog(connection, { prefix: `${prefix}:${++counter}` });
    expect(log.close).toBeUndefined();
    await log.record(FIXTURE[0]!);
    expect(connection.status).toBe('ready');
  });

  it('refuses a Redis Cluster prefix without a {hash tag} (its two keys must share a slot), and nonsense sizes', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 6379 }], { lazyConnect: true });
    try {
      expect(() => new RedisConversationLog(cluster)).toThrow(/hash tag.*"\{parley\}"/);
      expect(() => new RedisConversationLog(cluster, { prefix: '{parley}' })).not.toThrow();
    } finally {
      cluster.disconnect();
    }
    const connection = redis.admin();
    expect(() => new RedisConversationLog(connection, { maxEntries: 0 })).toThrow(ConfigError);
    expect(() => new RedisConversationLog(connection, { ttlSeconds: 0 })).toThrow(ConfigError);
  });
});
