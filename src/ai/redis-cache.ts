import { randomUUID } from 'node:crypto';
import type { RedisClient as Redis } from '../store/redis-connection.js';
import { redisScript } from '../store/redis-script.js';
import type { AiResult, ResponseCache } from './types.js';

/** PEXPIRE the claim ARGV[2] ms while it is still ours (ARGV[1]); 1 when it was. */
const extendIfOwned = redisScript(1, "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0");
/** DEL the claim while it is still ours: one that expired and was taken since is another's. */
const releaseIfOwned = redisScript(1, "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0");

/**
 * The response cache on Redis, shared by every process. It may live on a separate, evicting
 * instance (REDIS_CACHE_URL): losing an entry only costs one more AI call.
 */
export class RedisResponseCache implements ResponseCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'parley:ai-cache:',
  ) {}

  async get(key: string): Promise<AiResult | undefined> {
    const json = await this.redis.get(this.prefix + key);
    return json ? (JSON.parse(json) as AiResult) : undefined;
  }

  async set(key: string, value: AiResult, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, JSON.stringify(value), 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  /** One DEL per key: on a Cluster the keys are in different slots. Sent together, in one write when auto-pipelined. */
  async delete(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.redis.del(this.prefix + key)));
  }

  /** The claims this process holds, by key: each with its own token, so only its holder extends or releases it. */
  private readonly held = new Map<string, string>();

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const token = randomUUID();
    const won = (await this.redis.set(`${this.prefix}inflight:${key}`, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
    if (won) this.held.set(key, token);
    return won;
  }

  async claimed(key: string): Promise<boolean> {
    return (await this.redis.exists(`${this.prefix}inflight:${key}`)) === 1;
  }

  async extend(key: string, ttlMs: number): Promise<boolean> {
    const token = this.held.get(key);
    return token !== undefined && (await extendIfOwned(this.redis, `${this.prefix}inflight:${key}`, token, Math.max(1, Math.ceil(ttlMs)))) === 1;
  }

  async release(key: string): Promise<void> {
    const token = this.held.get(key);
    if (token === undefined) return;
    this.held.delete(key);
    await releaseIfOwned(this.redis, `${this.prefix}inflight:${key}`, token);
  }
}
