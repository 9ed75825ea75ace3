/**
 * `parley check` and Redis: a server that takes connections but never answers (SIGSTOPped) is a
 * FAIL line naming REDIS_URL within seconds, not a silent hang; REDIS_CACHE_URL is reached too
 * when it is set, and named as unused when REDIS_URL is not.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createBackends } from '../../src/backends.js';
import { loadConfig } from '../../src/config.js';
import { startPrivateRedis } from '../helpers/processes.js';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;

/** `parley check` in its own process (not blocking this one, so the frozen-Redis tests wait side by side). */
async function check(env: Record<string, string>): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; seconds: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, parleyArgs('check'), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', METRICS_PORT: 'off', ...env },
    timeout: 40_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])));
  return { status, signal, stdout, stderr, seconds: (Date.now() - started) / 1000 };
}

// Each waits out the check's 5 s deadline on its own frozen redis-server: side by side.
describe.concurrent('parley check against a frozen Redis', () => {
  it('REDIS_URL: a FAIL line naming the variable within a few seconds, exit 1', async ({ expect }) => {
    const redis = await startPrivateRedis(['--appendonly', 'no']);
    redis.freeze();
    try {
      const run = await check({ REDIS_URL: `redis://:SECRETpw@127.0.0.1:${redis.port}` });
      expect(run.signal).toBeNull();
      expect(run.status).toBe(1);
      expect(run.seconds).toBeLessThan(15);
      expect(run.stdout).toMatch(new RegExp(`^FAIL {2}Redis: cannot reach 127\\.0\\.0\\.1:${redis.port} \\(REDIS_URL\\): no answer within 5 s`, 'm'));
      expect(run.stdout + run.stderr).not.toContain('SECRET');
    } finally {
      redis.thaw();
      await redis.stop();
    }
  }, 60_000);

  it('REDIS_CACHE_URL frozen while REDIS_URL answers: its own FAIL line, exit 1', async ({ expect }) => {
    const [store, cache] = await Promise.all([startPrivateRedis(['--appendonly', 'no']), startPrivateRedis(['--appendonly', 'no'])]);
    cache.freeze();
    try {
      const run = await check({ REDIS_URL: store.url, REDIS_CACHE_URL: cache.url });
      expect(run.status).toBe(1);
      expect(run.seconds).toBeLessThan(15);
      expect(run.stdout).toMatch(/^ok {4}Redis: reached; store, queue, limits and cache are shared$/m);
      expect(run.stdout).toMatch(new RegExp(`^FAIL {2}Redis cache: cannot reach 127\\.0\\.0\\.1:${cache.port} \\(REDIS_CACHE_URL\\): no answer within 5 s`, 'm'));
    } finally {
      cache.thaw();
      await Promise.all([store.stop(), cache.stop()]);
    }
  }, 60_000);
});

describe('parley check against a replica', () => {
  it('REDIS_URL naming a read-only replica (PING answers, every write is refused): a FAIL line saying so, exit 1', async () => {
    const primary = await startPrivateRedis(['--appendonly', 'no']);
    const replica = await startPrivateRedis(['--appendonly', 'no', '--replicaof', '127.0.0.1', String(primary.port)]);
    try {
      const run = await check({ REDIS_URL: replica.url });
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(new RegExp(`^FAIL {2}Redis: 127\\.0\\.0\\.1:${replica.port} \\(REDIS_URL\\) is a read-only replica: point it at the primary`, 'm'));
      // The primary itself passes.
      expect((await check({ REDIS_URL: primary.url })).stdout).toMatch(/^ok {4}Redis: reached/m);
    } finally {
      await Promise.all([replica.stop(), primary.stop()]);
    }
  }, 60_000);
});

describe('parley check and REDIS_CACHE_URL', () => {
  it('a closed REDIS_CACHE_URL fails the check; a live one is ok', async () => {
    const store = await startPrivateRedis(['--appendonly', 'no']);
    try {
      const dead = await check({ REDIS_URL: store.url, REDIS_CACHE_URL: 'redis://127.0.0.1:12115' });
      expect(dead.status).toBe(1);
      expect(dead.stdout).toMatch(/^FAIL {2}Redis cache: cannot reach 127\.0\.0\.1:12115 \(REDIS_CACHE_URL\): /m);
      const live = await check({ REDIS_URL: store.url, REDIS_CACHE_URL: store.url });
      expect(live.stdout).toMatch(/^ok {4}Redis cache: reached; the response cache is shared$/m);
    } finally {
      await store.stop();
    }
  }, 60_000);

  it('REDIS_CACHE_URL without REDIS_URL: a warning that it is not used', async () => {
    const run = await check({ REDIS_CACHE_URL: 'redis://127.0.0.1:12115' });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^warn {2}Redis cache: REDIS_CACHE_URL is set but REDIS_URL is not, so it is not used: .*Set REDIS_URL as well, or unset REDIS_CACHE_URL$/m);
  }, 60_000);
});

describe('the bot and REDIS_CACHE_URL without REDIS_URL', () => {
  it('warns at start that it is not used (everything, the cache too, is in memory)', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const backends = createBackends(loadConfig({ REDIS_CACHE_URL: 'redis://127.0.0.1:12115' }), logger);
    await backends.close();
    expect(lines.map((line) => JSON.parse(line).msg as string)).toEqual([expect.stringMatching(/^REDIS_CACHE_URL is set but REDIS_URL is not, so it is not used/)]);
  });
});

describe('parley check and a Sentinel URL', () => {
  it('no Sentinel listening: a FAIL line saying so, not that a server takes connections and does not answer', async () => {
    const run = await check({ REDIS_URL: 'redis+sentinel://127.0.0.1:12116/mymaster' });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^FAIL {2}Redis: cannot reach 127\.0\.0\.1:12116 \(REDIS_URL\): All sentinels are unreachable/m);
    expect(run.stdout).not.toContain('takes connections but does not answer');
  }, 60_000);
});
