/**
 * A Redis older than 6.2 (Azure Cache for Redis runs 6.0) has no XAUTOCLAIM, with which the intake's
 * pumps take over what a dead worker had read. `parley check` said "ok", and each worker logged a
 * warning with a stack ("moving admitted jobs … failed; trying again", ERR unknown command) once a
 * minute for good, every look for orphans failing. Now check fails naming the version needed, and a
 * worker says it once at start, without a stack, and goes on answering. A Redis whose XAUTOCLAIM is
 * renamed away answers as 6.0 does (ERR unknown command).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';
import { startParley, startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const PREFIX = `old-redis-${process.pid}`;
const NEEDS = 'Redis has no XAUTOCLAIM, which parley needs (Redis 6.2 or later)';

describe('a Redis without XAUTOCLAIM (before 6.2)', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis(['--rename-command', 'XAUTOCLAIM', '']);
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('parley check fails, naming the version needed', () => {
    const checked = spawnSync(process.execPath, parleyArgs('check'), {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', REDIS_URL: redis.url, REDIS_PREFIX: PREFIX },
      encoding: 'utf8',
      timeout: 40_000,
    });
    expect(checked.status).toBe(1);
    expect(checked.stdout).toContain(`FAIL  Redis: 127.0.0.1:${redis.port} (REDIS_URL): ${NEEDS}`);
  }, 60_000);

  it('serve says it once, at error level and without a stack, and answers messages all the same', async () => {
    const parley = await startParley(['serve'], { REDIS_URL: redis.url, REDIS_PREFIX: PREFIX, METRICS_PORT: 'off' });
    try {
      for (const text of ['one', 'two']) {
        const res = await fetch(`${parley.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: `old-${text}`, text }) });
        expect(res.status).toBe(202);
      }
      await until(() => parley.logs().split('message answered').length > 2, 'both messages answered', 20_000);
      const lines = parley.logs().trim().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown });
      const said = lines.filter((line) => line.msg.includes('XAUTOCLAIM'));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatchObject({ level: 50 });
      expect(said[0]!.msg).toContain(NEEDS);
      expect(said[0]!.err).toBeUndefined();
      expect(lines.filter((line) => /intake into the queue failed/.test(line.msg))).toEqual([]);
    } finally {
      await parley.stop();
    }
  }, 60_000);
});
