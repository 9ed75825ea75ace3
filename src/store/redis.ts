import { randomUUID } from 'node:crypto';
import { whyNotConnected, type RedisClient } from './redis-connection.js';
import { redisScript } from './redis-script.js';
import type { Store } from './store.js';

/** Extend or release a lock only while `token` still owns it (atomic compare-and-act). */
const extendIfOwner = redisScript(1, `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`);
const DELETE_IF_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const releaseIfOwner = redisScript(1, DELETE_IF_LUA);
/**
 * RPUSH each value (ARGV[3…]; one by one, as unpack() takes a few thousand at most), then LTRIM to
 * the newest ARGV[1] (when not ''), then PEXPIRE ARGV[2] ms (when not '').
 */
const pushCapped = redisScript(
  1,
  `for i = 3, #ARGV do redis.call('rpush', KEYS[1], ARGV[i]) end
if ARGV[1] ~= '' then redis.call('ltrim', KEYS[1], -tonumber(ARGV[1]), -1) end
if ARGV[2] ~= '' then redis.call('pexpire', KEYS[1], ARGV[2]) end
return 1`,
);

/** How long the readiness probe's key lives (each probe writes it again). */
export const READY_PROBE_TTL_MS = 60_000;
/** The readiness probe's write (KEYS[1], ARGV[1] ms): by script, as parley writes its keys. The queue's ping on a Cluster writes one too. */
export const readyProbe = redisScript(1, "return redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])");

/** The shared store: the same primitives as MemoryStore, on Redis, for several processes. */
export class RedisStore implements Store {
  /** `namespace` is put before every key, so several bots can share one Redis. */
  constructor(
    private readonly redis: RedisClient,
    private readonly namespace = '',
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.namespace + key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs && ttlMs > 0) await this.redis.set(this.namespace + key, value, 'PX', Math.ceil(ttlMs));
    else await this.redis.set(this.namespace + key, value);
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const k = this.namespace + key;
    const result = ttlMs && ttlMs > 0 ? await this.redis.set(k, value, 'PX', Math.ceil(ttlMs), 'NX') : await this.redis.set(k, value, 'NX');
    return result === 'OK';
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.namespace + key);
  }

  async deleteIf(key: string, value: string): Promise<boolean> {
    // EVAL, not EVALSHA: a NOSCRIPT answer would send the script a second time, behind later commands.
    return (await this.redis.eval(DELETE_IF_LUA, 1, this.namespace + key, value)) === 1;
  }

  async listPush(key: string, values: string[], options: { maxLength?: number; ttlMs?: number } = {}): Promise<void> {
    if (values.length === 0) return;
    key = this.namespace + key;
    const maxLength = options.maxLength === undefined ? '' : String(options.maxLength);
    const ttlMs = options.ttlMs && options.ttlMs > 0 ? String(Math.ceil(options.ttlMs)) : '';
    // One command (a history append is one of a message's many writes): push, trim and expire.
    await pushCapped(this.redis, key, maxLength, ttlMs, ...values);
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    return this.redis.lrange(this.namespace + key, start, stop);
  }

  async acquireLock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    return (await this.setIfAbsent(key, token, ttlMs)) ? token : undefined;
  }

  async extendLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await extendIfOwner(this.redis, this.namespace + key, token, String(Math.ceil(ttlMs)))) === 1;
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    return (await releaseIfOwner(this.redis, this.namespace + key, token)) === 1;
  }

  /** A write, not a PING: a Redis that answers but refuses writes (full under noeviction, a read-only replica) cannot take messages either. */
  async ping(): Promise<void> {
    // Written by a script, as parley's keys are: an ACL user refused scripts or the prefix's keys
    // (NOPERM), which every message would meet, makes /readyz answer 503 and say so.
    await readyProbe(this.redis, `${this.namespace}parley:ready`, READY_PROBE_TTL_MS).catch((error: unknown) => {
      throw whyNotConnected(this.redis, error);
    });
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
