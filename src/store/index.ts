export type { Store } from './store.js';
export { MemoryStore } from './memory.js';
export { RedisStore } from './redis.js';
export { connectRedis, parseRedisUrl, queuePrefix, whenReady, type RedisClient } from './redis-connection.js';
