import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { RedisClient } from '../store/redis-connection.js';
import { asLimiter, ruleOf, type Limiter, type LimitOptions } from './limiter.js';

/**
 * A limit shared by every process, on Redis. While Redis is unreachable an in-memory insurance
 * limiter takes over (per process, so the limit is approximate then) rather than failing open
 * or refusing everyone.
 */
export function createRedisLimiter(redis: RedisClient, options: LimitOptions): Limiter {
  return asLimiter(
    new RateLimiterRedis({
      storeClient: redis,
      points: options.points,
      duration: options.durationSeconds,
      keyPrefix: options.keyPrefix,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ points: options.points, duration: options.durationSeconds, keyPrefix: `${options.keyPrefix}-insurance` }),
    }),
    ruleOf(options),
  );
}
