import { afterEach, describe, expect, it } from 'vitest';
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

  it('warns once in JSON, and BullMQ prints no plain-text line', async () => {
    redis = await startPrivateRedis(['--maxmemory-policy', 'allkeys-lru']);
    parley = await startParley(['serve'], { REDIS_URL: redis.url, REDIS_PREFIX: `evict-${process.pid}` });
    // A message answered end to end: BullMQ's producer, worker and blocking connections are all up.
    const res = await fetch(`${parley.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'evict', text: 'hello' }) });
    expect(res.status).toBe(202);
    await until(() => parley!.logs().includes('message answered'), 'the message to be answered', 15_000);
    const lines = parley.logs().trim().split('\n');
    expect(parley.logs()).not.toContain('IMPORTANT! Eviction policy');
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    const warnings = lines.map((line) => JSON.parse(line) as { msg: string; policy?: string }).filter((entry) => entry.policy === 'allkeys-lru');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('Set it to noeviction');
  }, 40_000);
});
