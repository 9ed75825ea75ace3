import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { ioredisPackage } from '../redis-packages.js';
import { ConfigError } from '../errors.js';

/** A Redis client parley uses: one server (or a Sentinel-managed primary), or a Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  kind: 'single' | 'sentinel' | 'cluster';
  /** For 'single': the redis:// or rediss:// URL. */
  url?: string;
  /** Sentinels (for 'sentinel') or seed nodes (for 'cluster'). */
  nodes: { host: string; port: number }[];
  /** The Sentinel master group name. */
  name?: string;
  username?: string;
  password?: string;
  tls: boolean;
}

/**
 * Read a Redis URL: `redis://` / `rediss://` for one server,
 * `redis+sentinel://[:password@]host:26379[,host:26379…]/mastername` for Sentinel, and
 * `redis+cluster://[:password@]host:6379[,host:6379…]` for a Cluster. Throws on anything else.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const match = /^(rediss?|redis\+sentinel|rediss\+sentinel|redis\+cluster|rediss\+cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(\/[^?#]*)?/.exec(url);
  if (!match) throw new ConfigError(`not a Redis URL: ${url.replace(/\/\/[^@/]*@/, '//<hidden>@')}`);
  const [, scheme = '', user, pass, hosts = '', path = ''] = match;
  const tls = scheme.startsWith('rediss');
  const nodes = hosts.split(',').map((hostPort) => {
    const [host = '', port] = hostPort.split(':');
    return { host, port: Number(port ?? (scheme.includes('sentinel') ? 26379 : 6379)) };
  });
  const credentials = { username: user ? decodeURIComponent(user) : undefined, password: pass ? decodeURIComponent(pass) : undefined };
  if (scheme.includes('sentinel')) return { kind: 'sentinel', nodes, name: path.slice(1) || 'mymaster', tls, ...credentials };
  if (scheme.includes('cluster')) return { kind: 'cluster', nodes, tls, ...credentials };
  return { kind: 'single', url, nodes, tls, ...credentials };
}

/**
 * One ioredis client from a URL. Commands fail fast while Redis is unreachable (no offline
 * queue) so ingress can answer 503 at once instead of hanging the platform's request; ioredis
 * keeps reconnecting in the background.
 */
export function connectRedis(url: string, overrides: RedisOptions = {}): RedisClient {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...overrides,
  };
  const target = parseRedisUrl(url);
  const auth = { username: target.username, password: target.password, ...(target.tls ? { tls: {} } : {}) };
  const { Redis, Cluster } = ioredisPackage();
  switch (target.kind) {
    case 'single':
      return new Redis(url, options);
    case 'sentinel':
      return new Redis({ ...options, ...auth, sentinels: target.nodes, name: target.name, sentinelPassword: target.password });
    case 'cluster':
      return new Cluster(target.nodes, {
        enableOfflineQueue: options.enableOfflineQueue,
        ...(options.lazyConnect ? { lazyConnect: true } : {}),
        clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
        redisOptions: { ...options, ...auth },
      });
  }
}

/** BullMQ needs every key of a queue in one Cluster slot: a {hash tag} prefix does that. */
export function queuePrefix(url: string, prefix: string): string {
  return parseRedisUrl(url).kind === 'cluster' ? `{${prefix}}` : prefix;
}

/** Wait until the connection is ready (or fail after `timeoutMs`). */
export async function whenReady(redis: RedisClient, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
