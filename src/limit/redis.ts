import type { RedisClient as Redis } from '../store/redis-connection.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Limiter, LimitOptions } from './limiter.js';

/**
 * A limit shared by every process, on Redis. While Redis is unreachable an in-memory insurance
 * limiter takes over (per process, so the limit is approximate then) rather than failing open
 * or refusing everyone.
 */
export function createRedisLimiter(redis: Redis, options: LimitOptions): Limiter {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    points: options.points,
    duration: options.durationSeconds,
    keyPrefix: options.keyPrefix,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ points: options.points, duration: options.durationSeconds, keyPrefix: `${options.keyPrefix}-insurance` }),
  });
  return {
    async consume(key, points = 1) {
      try {
        await limiter.consume(key, points);
        return { allowed: true };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return { allowed: false, retryAfterMs: rejection.msBeforeNext };
        throw rejection;
      }
    },
  };
}
