/**
 * REDIS_URL naming a read-only replica for good (no failover): past the failover window
 * (injected: 0 here, 60 s in production) a burst of refused commands does not make the connection
 * reconnect once per command, the process's log says what is wrong once (host:port, no password),
 * and the ready probe's write fails. Two private redis-servers, one the other's replica.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackends, type Backends } from '../../src/backends.js';
import { loadConfig } from '../../src/config.js';
import { connectRedis, reconnectOnFailover, redisAddress, whenReady, type RedisClient } from '../../src/store/redis-connection.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { uniquePrefix } from './redis-helpers.js';

const PASSWORD = 'SECRETpw';

describe('REDIS_URL naming a read-only replica', () => {
  let primary: PrivateRedis;
  let replica: PrivateRedis;
  let url: string;
  let admin: Redis;
  let backends: Backends;
  const lines: { level: number; msg: string }[] = [];
  const raw: string[] = [];
  const opened: RedisClient[] = [];

  /** A fail-fast connection as connectRedis opens it, already past the failover window. */
  async function pastTheWindow(): Promise<RedisClient> {
    // reconnectEveryMs: no second reconnect within the test, however slow the machine.
    const redis = connectRedis(url, { reconnectOnError: reconnectOnFailover(false, redisAddress(url), { windowMs: 0, reconnectEveryMs: 10 * 60_000 }) });
    redis.on('error', () => undefined);
    opened.push(redis);
    await whenReady(redis);
    return redis;
  }

  /** Ready, and its socket not closing (a reconnect ends the socket before the status changes). */
  const writable = (redis: RedisClient) =>
    until(() => redis.status === 'ready' && (redis as unknown as { stream?: { writable: boolean } }).stream?.writable, 'the connection to be writable', 10_000);

  beforeAll(async () => {
    primary = await startPrivateRedis(['--appendonly', 'no']);
    replica = await startPrivateRedis(['--appendonly', 'no', '--requirepass', PASSWORD, '--replicaof', '127.0.0.1', String(primary.port)]);
    url = `redis://:${PASSWORD}@127.0.0.1:${replica.port}`;
    admin = new Redis(replica.port, '127.0.0.1', { password: PASSWORD, maxRetriesPerRequest: 1 });
    await until(async () => (await admin.info('replication')).includes('master_link_status:up'), 'the replica to sync', 10_000);
    const logger = pino({ level: 'info' }, { write: (line: string) => void (raw.push(line), lines.push(JSON.parse(line))) });
    // As the bot starts: its backends give the process's Redis connections their logger.
    backends = createBackends(loadConfig({ REDIS_URL: url, REDIS_PREFIX: uniquePrefix() }), logger);
    await backends.connect();
  }, 30_000);
  afterAll(async () => {
    for (const redis of opened) redis.disconnect();
    await backends?.close();
    admin?.disconnect();
    await Promise.all([replica?.stop(), primary?.stop()]);
  });

  it("the ready probe's write is refused (/readyz answers 503)", async () => {
    await expect(backends.store().ping()).rejects.toThrow(/^READONLY/);
  });

  it('a burst of refused commands: each caller gets READONLY, the connection reconnects once, not once per command', async () => {
    const redis = await pastTheWindow();
    let reconnects = 0;
    redis.on('reconnecting', () => reconnects++);
    const errors: string[] = [];
    for (let i = 0; i < 10; i++) {
      // Writable first: on a connection that reconnects per refusal, each command would meet a reconnect.
      await writable(redis);
      await redis.set(`refused-${i}`, '1').then(
        () => errors.push('written'),
        (error: Error) => errors.push(error.message),
      );
    }
    await writable(redis);
    expect(errors).toHaveLength(10);
    for (const error of errors) expect(error).toMatch(/^READONLY/);
    expect(reconnects).toBe(1);
  });

  it("a connection's duplicates (BullMQ's), each refused: each reconnects, one's reconnect does not hold back another's", async () => {
    const first = await pastTheWindow();
    const copy = first.duplicate();
    copy.on('error', () => undefined);
    opened.push(copy);
    await whenReady(copy);
    const reconnects = new Map<RedisClient, number>();
    for (const redis of [first, copy]) {
      reconnects.set(redis, 0);
      redis.on('reconnecting', () => reconnects.set(redis, reconnects.get(redis)! + 1));
    }
    for (const redis of [first, copy]) {
      await writable(redis);
      await expect(redis.set('refused', '1')).rejects.toThrow(/^READONLY/);
      await writable(redis);
    }
    expect([...reconnects.values()]).toEqual([1, 1]);
  });

  it('two bots in one process: the line goes to the bot whose REDIS_URL names the replica, not to the last one created', async () => {
    const mine: string[] = [];
    const theirs: string[] = [];
    const bots = [
      createBackends(loadConfig({ REDIS_URL: url, REDIS_PREFIX: uniquePrefix() }), pino({}, { write: (line: string) => void mine.push(line) })),
      createBackends(loadConfig({ REDIS_URL: `redis://127.0.0.1:${primary.port}`, REDIS_PREFIX: uniquePrefix() }), pino({}, { write: (line: string) => void theirs.push(line) })),
    ];
    try {
      const redis = await pastTheWindow();
      await redis.set('z', '1').catch(() => undefined);
      expect(mine.filter((line) => line.includes('read-only replica'))).toHaveLength(1);
      expect(theirs.join('')).not.toContain('read-only replica');
    } finally {
      for (const bot of bots) await bot.close();
    }
  });

  it('the log tells the operator once, naming the replica by host:port and never the password', async () => {
    const [a, b] = await Promise.all([pastTheWindow(), pastTheWindow()]);
    for (let i = 0; i < 5; i++) await Promise.all([a.set('x', '1').catch(() => undefined), b.set('y', '1').catch(() => undefined)]);
    const told = lines.filter((line) => /read-only replica/.test(line.msg));
    expect(told).toHaveLength(1);
    expect(told[0]!.level).toBe(50);
    expect(told[0]!.msg).toMatch(new RegExp(`^Redis at 127\\.0\\.0\\.1:${replica.port} has refused writes \\(READONLY\\) for over .*REDIS_URL \\(or REDIS_CACHE_URL\\) names a read-only replica, not the primary; point it at the primary`));
    expect(raw.join('')).not.toContain(PASSWORD);
  });
});
