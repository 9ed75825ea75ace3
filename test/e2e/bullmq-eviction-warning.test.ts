import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';
import { startParley, startPrivateRedis, type ParleyProcess, type PrivateRedis } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

/**
 * A Redis that evicts (maxmemory-policy allkeys-lru): parley warns about it in its JSON log, and
 * BullMQ's own plain-text `IMPORTANT! Eviction policy is…` line no longer joins it.
 */
describe('parley serve on a Redis whose maxmemory-policy evicts', () => {
  let redis: PrivateRedis | undefined;
  let parley: ParleyProcess | undefined;
  afterEach(async () => {
    await parley?.stop();
    await redis?.stop();
    parley = redis = undefined;
  });

  /** Serve on a Redis started with `args`, answer one message, and return parley's JSON lines naming `policy`. */
  async function policyWarnings(args: string[], policy: string) {
    redis = await startPrivateRedis(args);
    parley = await startParley(['serve'], { REDIS_URL: redis.url, REDIS_PREFIX: `evict-${process.pid}` });
    // A message answered end to end: BullMQ's producer, worker and blocking connections are all up.
    const res = await fetch(`${parley.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'evict', text: 'hello' }) });
    expect(res.status).toBe(202);
    await until(() => parley!.logs().includes('message answered'), 'the message to be answered', 15_000);
    const lines = parley.logs().trim().split('\n');
    expect(parley.logs()).not.toContain('IMPORTANT! Eviction policy');
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    return lines.map((line) => JSON.parse(line) as { msg: string; policy?: string }).filter((entry) => entry.policy === policy);
  }

  it('warns once in JSON, and BullMQ prints no plain-text line', async () => {
    const warnings = await policyWarnings(['--maxmemory-policy', 'allkeys-lru'], 'allkeys-lru');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('Set it to noeviction');
  }, 40_000);

  // ElastiCache, Memorystore and Azure refuse CONFIG and default to volatile-lru: INFO says the policy there.
  it('CONFIG refused (managed Redis): the policy is read from INFO, and serve and parley check both warn', async () => {
    const warnings = await policyWarnings(['--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', ''], 'volatile-lru');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('Set it to noeviction');
    const checked = spawnSync(process.execPath, parleyArgs('check'), {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', REDIS_URL: redis!.url, REDIS_PREFIX: `evict-${process.pid}` },
      encoding: 'utf8',
      timeout: 40_000,
    });
    expect(checked.stdout).toMatch(/^warn {2}Redis: reached, but maxmemory-policy is volatile-lru: set noeviction/m);
  }, 60_000);
});
