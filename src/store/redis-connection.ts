import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { leftOutFields, logSummaryOf } from '../observe/log-summary.js';
import { ioredisPackage } from '../redis-packages.js';
import { ConfigError } from '../errors.js';
import { FAIL_FAST_COMMAND_TIMEOUT_MS, remembered } from './redis-not-connected.js';

export { FAIL_FAST_COMMAND_TIMEOUT_MS, notConnectedWords, whyNotConnected } from './redis-not-connected.js';

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
  const match = REDIS_URL.exec(url);
  if (!match) throw new ConfigError(`not a Redis URL: ${url.replace(/\/\/\S*@/, '//<hidden>@')}`);
  const [, scheme = '', user, pass, hosts = '', path = ''] = match;
  const tls = scheme.startsWith('rediss');
  const nodes = hosts.split(',').map((hostPort) => {
    const [host = '', port] = hostPort.split(':');
    return { host, port: Number(port ?? (scheme.includes('sentinel') ? 26379 : 6379)) };
  });
  // Never the URL in these errors: it holds the password.
  if (!readable(url, scheme, nodes)) throw new ConfigError(`a Redis URL that cannot be read: ${UNREADABLE}`);
  const credentials = { username: decoded(user), password: decoded(pass) };
  if (scheme.includes('sentinel')) return { kind: 'sentinel', nodes, name: path.slice(1) || 'mymaster', tls, ...credentials };
  if (scheme.includes('cluster')) return { kind: 'cluster', nodes, tls, ...credentials };
  return { kind: 'single', url, nodes, tls, ...credentials };
}

/** Where a Redis URL points, for a person to read: its host:port list, never its credentials. */
export function redisAddress(url: string): string {
  try {
    return parseRedisUrl(url).nodes.map(({ host, port }) => `${host}:${port}`).join(',');
  } catch {
    return 'an address that cannot be read';
  }
}

const REDIS_URL = /^(rediss?|redis\+sentinel|rediss\+sentinel|redis\+cluster|rediss\+cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(\/[^?#]*)?/;

/** What to do about a Redis URL the scheme check passes but that cannot be read. */
export const UNREADABLE =
  'a host, a port from 1 to 65535, and special characters in the user name and password percent-encoded (# as %23, ? as %3F, / as %2F, @ as %40, % as %25)';

/**
 * Whether the URL reads as ioredis will read it: one server's through `new URL()` (which throws
 * an error quoting the whole URL, password included), Sentinel's and Cluster's host by host.
 */
function readable(url: string, scheme: string, nodes: { host: string; port: number }[]): boolean {
  try {
    if (!scheme.includes('sentinel') && !scheme.includes('cluster')) {
      const parsed = new URL(url);
      if (!parsed.hostname) return false;
      decodeURIComponent(parsed.username);
      decodeURIComponent(parsed.password);
    }
  } catch {
    return false;
  }
  return nodes.every(({ host, port }) => host !== '' && Number.isInteger(port) && port >= 1 && port <= 65_535);
}

function decoded(part: string | undefined): string | undefined {
  if (!part) return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ConfigError(`a Redis URL that cannot be read: ${UNREADABLE}`);
  }
}

/**
 * One ioredis client from a URL. Commands fail fast while Redis is unreachable (no offline
 * queue) or silent (FAIL_FAST_COMMAND_TIMEOUT_MS), so ingress can answer 503 at once instead of
 * hanging the platform's request; ioredis keeps reconnecting in the background. A connection
 * that waits out an outage (`enableOfflineQueue: true`: the workers', which also block on reads)
 * has no command deadline unless it asks for one.
 */
export function connectRedis(url: string, overrides: RedisOptions = {}): RedisClient {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...overrides,
  };
  options.reconnectOnError ??= reconnectOnFailover(options.enableOfflineQueue !== false, redisAddress(url));
  if (options.enableOfflineQueue === false) options.commandTimeout ??= FAIL_FAST_COMMAND_TIMEOUT_MS;
  const target = parseRedisUrl(url);
  const auth = { username: target.username, password: target.password, ...(target.tls ? { tls: {} } : {}) };
  const { Redis, Cluster } = ioredisPackage();
  switch (target.kind) {
    case 'single':
      return remembered(new Redis(url, options));
    case 'sentinel':
      return remembered(new Redis({ ...options, ...auth, sentinels: target.nodes, name: target.name, sentinelPassword: target.password }));
    case 'cluster':
      return remembered(new Cluster(target.nodes, {
        enableOfflineQueue: options.enableOfflineQueue,
        ...(options.lazyConnect ? { lazyConnect: true } : {}),
        clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
        redisOptions: { ...options, ...auth },
      }));
  }
}

/**
 * A failover behind one endpoint (ElastiCache, Memorystore, Azure: a name that moves to the new
 * primary) leaves the connections already open on the old primary, now a replica, where every
 * write is refused (READONLY) and nothing closes them: such a connection reconnects, to wherever
 * the name (or Sentinel) points now. A patient one (`resend`) sends the refused command again once
 * reconnected (a replica carried out none of it); a fail-fast one cannot send while it reconnects,
 * so its caller gets the READONLY (ingress answers 503 and the platform redelivers). Refusals that
 * go on past FAILOVER_RESEND_MS are no failover (REDIS_URL names a replica): from then on every
 * caller gets them, the connection reconnects only once per REPLICA_RECONNECT_MS (enough to follow
 * a name that moves late, without a reconnect per refused command), and the operator is told once
 * a minute. BullMQ's connections are duplicates of these, with the same option (and failover window;
 * each its own reconnects).
 * `address`: the server's host:port, for the log line. `windowMs`, `now`: for tests.
 */
export function reconnectOnFailover(
  resend: boolean,
  address: string,
  { windowMs = FAILOVER_RESEND_MS, reconnectEveryMs = REPLICA_RECONNECT_MS, now: clock = Date.now } = {},
): (error: Error) => 1 | 2 | false {
  let since = 0;
  let last = 0;
  // Per connection: ioredis calls this on the connection's own options, which duplicate() copies (BullMQ's
  // connections share this function), so one duplicate's reconnect does not hold back another's still on the replica.
  const reconnectedAt = new WeakMap<object, number>();
  const called = {};
  return function (this: unknown, error: Error) {
    if (!error.message.startsWith('READONLY')) return false;
    const now = clock();
    if (now - last > windowMs) since = now;
    last = now;
    if (now - since < windowMs) return resend ? 2 : 1;
    tellOfReplica(address, windowMs, now);
    const connection = typeof this === 'object' && this !== null ? this : called;
    if (now - (reconnectedAt.get(connection) ?? -Infinity) < reconnectEveryMs) return false;
    reconnectedAt.set(connection, now);
    return 1;
  };
}

/** How long a patient connection sends READONLY-refused commands again: a failover's moving name settles well within it. */
export const FAILOVER_RESEND_MS = 60_000;
/** Past FAILOVER_RESEND_MS, how often a refused connection still reconnects, in case the name moves after all. */
export const REPLICA_RECONNECT_MS = 5000;

/**
 * The loggers of the bots whose Redis is at an address (set by createBackends until it closes): several bots
 * in one process (tests, an embedder's) each hear of their own replica, in their own log.
 */
const replicaLoggers = new Map<string, Logger[]>();

/** Tell `logger` of refusals past FAILOVER_RESEND_MS from the server `url` names. Returns the undoing. */
export function logReplicaRefusalsTo(logger: Logger, url: string): () => void {
  const address = redisAddress(url);
  replicaLoggers.set(address, [...(replicaLoggers.get(address) ?? []), logger]);
  return () => {
    const loggers = replicaLoggers.get(address) ?? [];
    const left = loggers.filter((_, i) => i !== loggers.indexOf(logger));
    if (left.length > 0) replicaLoggers.set(address, left);
    else replicaLoggers.delete(address);
  };
}

function tellOfReplica(address: string, windowMs: number, now: number): void {
  for (const logger of new Set(replicaLoggers.get(address))) {
    const leftOut = logSummaryOf(logger).take(`redis replica ${address}`, now);
    if (leftOut === undefined) continue;
    logger.error(
      { at: address, ...leftOutFields(leftOut) },
      `Redis at ${address} has refused writes (READONLY) for over ${Math.round(windowMs / 1000)} s: REDIS_URL (or REDIS_CACHE_URL) names a read-only replica, not the primary; point it at the primary (or the Sentinel or Cluster endpoint)`,
    );
  }
}

/** BullMQ needs every key of a queue in one Cluster slot: a {hash tag} prefix does that. */
export function queuePrefix(url: string, prefix: string): string {
  return parseRedisUrl(url).kind === 'cluster' ? `{${prefix}}` : prefix;
}

/** The start of the store's keys under REDIS_PREFIX ('' for the default prefix, whose keys start parley: already). */
export function storeNamespace(prefix: string): string {
  return prefix === 'parley' ? '' : `${prefix}:`;
}

/** The ACL key patterns parley's keys need: `~<prefix>:*`, and on a Cluster `~{<prefix>}:*` too. */
export function aclKeyPatterns(url: string, prefix: string): string {
  const queueKeys = queuePrefix(url, prefix);
  return queueKeys === prefix ? `~${prefix}:*` : `~${prefix}:* ~${queueKeys}:*`;
}

/**
 * What parley needs of an ACL user, tried once: INFO (BullMQ reads it) and a script writing a key
 * under the prefix (the one /readyz writes; it expires in a second), and, given the queue's key
 * prefix (`queuePrefix`), one under it where it differs (a Cluster's `{prefix}`: an ACL may allow
 * one and not the other). An ACL that refuses any rejects with its NOPERM.
 */
export async function tryPermissions(redis: RedisClient, prefix: string, queueKeys?: string): Promise<void> {
  await redis.info('server');
  const set = (key: string) => redis.eval("return redis.call('SET', KEYS[1], '1', 'PX', 1000)", 1, key);
  await set(`${storeNamespace(prefix)}parley:ready`);
  if (queueKeys !== undefined && queueKeys !== prefix) await set(`${queueKeys}:ready`);
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

/** What to change when a connection failed for a reason the user can fix in REDIS_URL or Node's CAs ('' otherwise). */
export function connectionHint(error: Error, url: string): string {
  return untrusted(error) + wrongScheme(error, url);
}

/** Node's codes for a TLS certificate signed by no CA it knows (a private CA, a self-signed one). */
const UNTRUSTED = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

function untrusted(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code && UNTRUSTED.has(code) ? ' (its TLS certificate is signed by a CA Node does not know: give its CA certificate in NODE_EXTRA_CA_CERTS=/path/to/ca.pem)' : '';
}

/** TLS asked of a plain port, or not asked of a TLS-only one (managed Redis is often TLS only): what the scheme should be. */
function wrongScheme(error: Error, url: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  const tls = parseRedisUrl(url).tls;
  if (tls && code === 'ETIMEDOUT') return ' (if that port is a plain one, use redis://: a plain Redis never answers TLS\'s handshake)';
  if (!tls && (code === 'ECONNRESET' || code === 'EPIPE')) return ' (if that port takes only TLS, use rediss://)';
  return '';
}
