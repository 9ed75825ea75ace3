import { afterEach, describe, expect, it } from 'vitest';
import { startParley, startPrivateRedis, type ParleyProcess, type PrivateRedis } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

/**
 * A queue Redis that keeps nothing on disk (no AOF, no RDB snapshots) loses the queue and every
 * other key on a restart: parley warns about it once at start, next to the maxmemory-policy
 * warning, and says nothing when it persists or when CONFIG is refused (managed Redis).
 */
describe('parley on a Redis that keeps nothing on disk', () => {
  let redis: PrivateRedis | undefined;
  let parley: ParleyProcess | undefined;
  afterEach(async () => {
    await parley?.stop();
    await redis?.stop();
    parley = redis = undefined;
  });

  type Line = { level: number; msg: string; appendonly?: string };
  const persistence = (p: ParleyProcess) =>
    p.logs().trim().split('\n').map((line) => JSON.parse(line) as Line).filter((line) => /keeps nothing on disk/.test(line.msg));

  /** Serve on `args`' Redis and answer one message end to end: the start-up checks are done by then. */
  async function serveAndAnswer(args: string[]): Promise<ParleyProcess> {
    redis = await startPrivateRedis(args);
    parley = await startParley(['serve'], { REDIS_URL: redis.url, REDIS_PREFIX: `persist-${process.pid}` });
    const res = await fetch(`${parley.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'persist', text: 'hello' }) });
    expect(res.status).toBe(202);
    await until(() => parley!.logs().includes('message answered'), 'the message to be answered', 15_000);
    return parley;
  }

  it("appendonly no and save '': warns once, naming what a restart loses and the fix", async () => {
    const p = await serveAndAnswer(['--save', '', '--appendonly', 'no']);
    const warnings = persistence(p);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, appendonly: 'no', save: '' });
    expect(warnings[0]!.msg).toMatch(/a restart loses the queued messages, dedupe claims, .*Slack installations/);
    expect(warnings[0]!.msg).toContain('Set appendonly yes');
  }, 40_000);

  it('appendonly yes: no warning', async () => {
    expect(persistence(await serveAndAnswer(['--save', '', '--appendonly', 'yes']))).toEqual([]);
  }, 40_000);

  it('RDB snapshots on (appendonly no): no warning', async () => {
    expect(persistence(await serveAndAnswer(['--save', '60 1', '--appendonly', 'no']))).toEqual([]);
  }, 40_000);

  it('CONFIG refused (as on many managed Redis): nothing said', async () => {
    expect(persistence(await serveAndAnswer(['--save', '', '--appendonly', 'no', '--rename-command', 'CONFIG', '']))).toEqual([]);
  }, 40_000);

  it('a worker process warns too, once', async () => {
    redis = await startPrivateRedis(['--save', '', '--appendonly', 'no']);
    parley = await startParley(['worker'], { REDIS_URL: redis.url, REDIS_PREFIX: `persist-w-${process.pid}` });
    await until(() => persistence(parley!).length > 0, 'the warning', 15_000);
    expect(persistence(parley)).toHaveLength(1);
  }, 40_000);
});
