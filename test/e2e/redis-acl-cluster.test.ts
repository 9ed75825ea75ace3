/**
 * On a Redis Cluster the queue's and the conversation log's keys are `{<REDIS_PREFIX>}:…` (one hash
 * slot), beside the store's `<REDIS_PREFIX>:…`: an ACL user allowed only the second has every message
 * refused, and `parley check` must say so (it tried only a key of the second, and said "ok"). A
 * one-node Cluster, its slots all its own; no password anywhere in what is printed. `serve`'s /readyz
 * must say so too (it read "ready": its probe wrote only a key of the second).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';
import { startParley, startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { expectServedAs, readyzRefusing, webMessageStatus } from '../helpers/acl-serve.js';
import { until } from '../helpers/until.js';

const root = new URL('../..', import.meta.url).pathname;
const PREFIX = 'acl-cluster';
const rest = ['+@all', '-@dangerous', '+info'];

function check(redis: PrivateRedis, user: string) {
  return spawnSync(process.execPath, parleyArgs('check'), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', METRICS_PORT: 'off', REDIS_PREFIX: PREFIX, REDIS_URL: `redis+cluster://${user}:hunter2pw@127.0.0.1:${redis.port}` },
    encoding: 'utf8',
    timeout: 40_000,
  });
}

const cli = (redis: PrivateRedis, ...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' }).stdout;

describe('an ACL user on a Redis Cluster', () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis([
      ...['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1'],
      ...['--user', 'readme', 'on', '>hunter2pw', `~${PREFIX}:*`, `~{${PREFIX}}:*`, ...rest],
      ...['--user', 'nohashtag', 'on', '>hunter2pw', `~${PREFIX}:*`, ...rest],
    ]);
    cli(redis, 'CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await until(() => cli(redis, 'CLUSTER', 'INFO').includes('cluster_state:ok'), 'the one-node Cluster to be up', 10_000);
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('parley check: ok with both key patterns, one FAIL line naming the {prefix} without it', () => {
    expect(check(redis, 'readme').stdout).toMatch(/^ok {4}Redis: reached/m);
    const checked = check(redis, 'nohashtag');
    expect(checked.status).toBe(1);
    const line = checked.stdout.split('\n').find((l) => l.startsWith('FAIL  Redis: '));
    expect(line).toMatch(/the user in REDIS_URL lacks a permission parley needs: NOPERM .*access one of the keys/);
    expect(line).toContain(`~${PREFIX}:* ~{${PREFIX}}:*`);
    expect(checked.stdout + checked.stderr).not.toContain('hunter2pw');
  }, 60_000);

  it("serve: /readyz answers 503 naming the NOPERM without the {prefix} pattern (every message would be refused), 200 with the README's ACL", async () => {
    const env = (user: string) => ({ REDIS_PREFIX: PREFIX, REDIS_URL: `redis+cluster://${user}:hunter2pw@127.0.0.1:${redis.port}`, METRICS_PORT: 'off' });
    const refused = await startParley(['serve'], env('nohashtag'));
    try {
      const ready = await readyzRefusing(refused.url!, 'queue', /^down: NOPERM .*access one of the keys/, '/readyz naming the NOPERM of the {prefix} keys');
      expect(JSON.stringify(ready)).not.toContain('hunter2pw');
      // `parley dlq` still says Redis refused a command, not that it cannot reach the queue.
      const listed = spawnSync(process.execPath, parleyArgs('dlq', 'list'), { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env('nohashtag') }, encoding: 'utf8', timeout: 40_000 });
      expect(listed.status).toBe(1);
      expect(listed.stderr.trim()).toMatch(/^parley dlq: Redis refused a command \(REDIS_URL\): NOPERM .*\. parley check tells more\.$/);
      expect(await webMessageStatus(refused.url!)).toBe(503);
    } finally {
      await refused.stop();
    }
    await expectServedAs(env('readme'));
  }, 60_000);
});
