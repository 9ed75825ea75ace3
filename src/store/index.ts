export type { Store } from './store.js';
export { MemoryStore } from './memory.js';
export { RedisStore } from './redis.js';
export { connectRedis, whenReady } from './redis-connection.js';
