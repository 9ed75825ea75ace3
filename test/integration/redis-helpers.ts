/**
 * Shared by the integration tests: a real Redis on 127.0.0.1:6379 (never a mock), a unique key
 * prefix per test file, and cleanup by SCAN + DEL on that prefix — never FLUSHALL, because other
 * tests and processes share this Redis.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { connectRedis, whenReady, type RedisClient } from '../../src/store/index.js';
import { deleteKeys } from '../helpers/redis-keys.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';
const NOT_RUNNING = 'Redis is not running on 127.0.0.1:6379 — start it (redis-server) or run .ci/run';

/** A prefix no other test file or process uses: `test-<uuid>`. */
export function uniquePrefix(): string {
  return `test-${randomUUID()}`;
}

/**
 * An admin connection for setup, assertions and cleanup, checked with a PING. Throws a clear error
 * at once (no retries, short timeouts) when Redis is absent: these tests must fail, never skip.
 */
export async function requireRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await withTimeout(
      redis.connect().then(() => redis.ping()),
      1500,
    );
  } catch (error) {
    redis.disconnect();
    throw new Error(`${NOT_RUNNING} (${error instanceof Error ? error.message : String(error)})`);
  }
  return redis;
}

export { deleteKeys };

/**
 * A test file's Redis: the admin connection is checked before the file's tests (failing them all
 * when Redis is absent) and, after them, every key under `prefix` is deleted and every connection
 * the file opened is closed.
 */
export function useRedis(prefix: string) {
  let admin: Redis | undefined;
  const connections: RedisClient[] = [];
  beforeAll(async () => {
    admin = await requireRedis();
  });
  afterAll(async () => {
    for (const redis of connections.splice(0)) redis.disconnect();
    if (!admin) return;
    await deleteKeys(admin, prefix);
    admin.disconnect();
  });
  return {
    /** The admin connection, for setup and assertions inside tests. */
    admin(): Redis {
      if (!admin) throw new Error('the admin connection is ready only once the tests run');
      return admin;
    },
    /** A ready connection as the app opens it (what another process would have), with `options` on top. */
    async connection(options: RedisOptions = {}): Promise<RedisClient> {
      const redis = connectRedis(REDIS_URL, options);
      redis.on('error', () => undefined);
      connections.push(redis);
      await whenReady(redis, 2000);
      return redis;
    },
  };
}

/** Every key starting with `prefix`. */
export async function keysWithPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll until `check` is true (or throw after `timeoutMs`, naming `what`). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The commands `client` sends to Redis while `act` runs, as Redis saw them (MONITOR, on a
 * connection of its own, filtered by the client's address), lower-case names; scripts' own calls
 * are left out. Measures what a change to round trips or scripts is meant to save.
 */
export async function commandsSent(client: RedisClient, act: () => Promise<unknown>): Promise<string[]> {
  const socket = (client as unknown as { stream?: { localPort?: number } }).stream;
  if (!socket?.localPort) throw new Error('commandsSent: the client is not connected (no local port)');
  const source = `127.0.0.1:${socket.localPort}`;
  // MONITOR on a socket of its own: ioredis' monitor() switches to monitor mode a tick after the OK,
  // and under a busy Redis the first lines come in the same chunk ("Command queue state error").
  const seen: string[] = [];
  const monitor = connect({ host: '127.0.0.1', port: 6379 });
  let pending = '';
  let started!: () => void;
  const monitoring = new Promise<void>((resolve) => (started = resolve));
  monitor.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\r\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '+OK') started();
      // +<time> [<db> <client address>] "<command>" "<arg>" …
      const shown = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]*)"/.exec(line);
      if (shown?.[1] === source) seen.push(shown[2]!.toLowerCase());
    }
  });
  monitor.write('MONITOR\r\n');
  await monitoring;
  try {
    // Redis shows the monitor each command it runs from now on; a PING marks where `act` ended.
    await act();
    await client.ping();
    await waitFor(() => seen.at(-1) === 'ping', 2000, 'the monitor to see the closing PING');
    return seen.slice(0, -1);
  } finally {
    monitor.destroy();
  }
}
