/**
 * An ACL user that Redis takes (the password is right) but that may not do what parley does: run
 * scripts, touch keys under REDIS_PREFIX, run INFO (BullMQ's). `parley check` says so in one FAIL
 * line (it said "ok": it only sent PING), `serve`'s /readyz answers 503 naming it and each 503's line
 * says what to do (it said "ready", then answered every message 503 with a bare NOPERM), and
 * `parley dlq` in one line (it dumped ioredis's error with the
 * command's arguments: a whole Lua script). The README's own ACL passes. No password anywhere.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';
import { startParley, startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { expectServedAs, readyzRefusing, webMessageStatus } from '../helpers/acl-serve.js';
import { until } from '../helpers/until.js';

const root = new URL('../..', import.meta.url).pathname;
const PREFIX = 'acl-test';
const allowed = [`~${PREFIX}:*`, '+@all', '-@dangerous', '+info'];

function run(redis: PrivateRedis, user: string, ...args: string[]) {
  return spawnSync(process.execPath, parleyArgs(...args), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', METRICS_PORT: 'off', REDIS_PREFIX: PREFIX, REDIS_URL: `redis://${user}:hunter2pw@127.0.0.1:${redis.port}` },
    encoding: 'utf8',
    timeout: 40_000,
  });
}

describe('an ACL user refused what parley needs', () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis([
      ...['--user', 'readme', 'on', '>hunter2pw', ...allowed],
      ...['--user', 'noscript', 'on', '>hunter2pw', ...allowed, '-@scripting'],
      ...['--user', 'otherkeys', 'on', '>hunter2pw', '~parley:*', '+@all', '-@dangerous', '+info'],
      ...['--user', 'noinfo', 'on', '>hunter2pw', `~${PREFIX}:*`, '+@all', '-@dangerous'],
    ]);
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('parley check: ok for the README\'s ACL, one FAIL line naming the refusal and the prefix otherwise', () => {
    expect(run(redis, 'readme', 'check').stdout).toMatch(/^ok {4}Redis: reached/m);
    for (const [user, refusal] of [['noscript', /run the 'eval' command/], ['otherkeys', /access one of the keys/], ['noinfo', /run the 'info' command/]] as const) {
      const checked = run(redis, user, 'check');
      expect(checked.status).toBe(1);
      const line = checked.stdout.split('\n').find((l) => l.startsWith('FAIL  Redis: '));
      expect(line).toMatch(new RegExp(`^FAIL {2}Redis: 127\\.0\\.0\\.1:${redis.port}: the user in REDIS_URL lacks a permission parley needs: NOPERM`));
      expect(line).toMatch(refusal);
      expect(line).toContain(`~${PREFIX}:*`);
      expect(checked.stdout + checked.stderr).not.toContain('hunter2pw');
    }
  }, 60_000);

  it('parley dlq: one line for a refused command, not the command\'s arguments', () => {
    expect(run(redis, 'readme', 'dlq', 'list').stdout).toContain('no dead letters');
    const listed = run(redis, 'noscript', 'dlq', 'list');
    expect(listed.status).toBe(1);
    expect(listed.stderr.trim()).toMatch(/^parley dlq: Redis refused a command \(REDIS_URL\): NOPERM this user has no permissions to run the 'eval' command\. parley check tells more\.$/);
    expect(listed.stdout + listed.stderr).not.toContain('hunter2pw');
  }, 60_000);

  it('serve: /readyz answers 503 naming the refusal, and a message\'s 503 line says what to do; the README\'s ACL is ready and takes it', async () => {
    const env = (user: string) => ({ REDIS_PREFIX: PREFIX, REDIS_URL: `redis://${user}:hunter2pw@127.0.0.1:${redis.port}`, METRICS_PORT: 'off' });
    const refused = await startParley(['serve'], env('noscript'));
    try {
      const ready = await readyzRefusing(refused.url!, 'store', /^down: NOPERM .*'evalsha?'/, '/readyz naming the NOPERM');
      expect(ready.checks?.store).not.toContain('hunter2pw');
      expect(await webMessageStatus(refused.url!)).toBe(503);
      await until(() => /"level":50,.*"message":"NOPERM [^"]*'evalsha?' command \(Redis refuses this to the user parley connects as[^"]*parley check/.test(refused.logs()), 'the 503 line with its hint');
      expect(refused.logs()).not.toContain('hunter2pw');
    } finally {
      await refused.stop();
    }
    await expectServedAs(env('readme'));
  }, 60_000);
});
