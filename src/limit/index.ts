export { createMemoryLimiter, unlimited } from './limiter.js';
export type { Limiter, LimitOptions, LimitResult } from './limiter.js';
export { createRedisLimiter } from './redis.js';
