import type { RedisClient as Redis } from '../store/redis-connection.js';
import type { AiResult, ResponseCache } from './types.js';

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

  async claim(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}inflight:${key}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
  }

  async claimed(key: string): Promise<boolean> {
    return (await this.redis.exists(`${this.prefix}inflight:${key}`)) === 1;
  }

  async release(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}inflight:${key}`);
  }
}
