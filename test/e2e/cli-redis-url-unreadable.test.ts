/**
 * A REDIS_URL whose scheme is right but that cannot be read (an unencoded # or ? in the password,
 * a port that is not a number): a one-line configuration error with the password hidden, never a
 * crash whose stack quotes the whole URL.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;

function parley(args: string[], env: Record<string, string>) {
  const run = spawnSync(process.execPath, parleyArgs(...args), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', REDIS_PREFIX: `redis-url-${process.pid}`, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('an unreadable REDIS_URL', () => {
  it.each([
    { command: 'serve', url: 'redis://:s3cret#passREDIS@127.0.0.1:6379', shown: 'redis://<hidden>@127.0.0.1:6379' },
    { command: 'worker', url: 'redis://:s3cret?passREDIS@127.0.0.1:6379', shown: 'redis://<hidden>@127.0.0.1:6379' },
    { command: 'serve', url: 'redis://user:s3cretpassREDIS@127.0.0.1:notaport', shown: 'redis://<hidden>@127.0.0.1:notaport' },
    { command: 'check', url: 'redis://:s3cret#passREDIS@127.0.0.1:6379/0', shown: 'redis://<hidden>@127.0.0.1:6379/0' },
    { command: 'worker', url: 'redis+sentinel://:s3cretpassREDIS@127.0.0.1:notaport/mymaster', shown: 'redis+sentinel://<hidden>@127.0.0.1:notaport/mymaster' },
  ])('parley $command ($url): a configuration error, exit 1, no password', ({ command, url, shown }) => {
    const { code, out, err } = parley([command], { REDIS_URL: url });
    expect(code).toBe(1);
    expect(err).toContain('parley: configuration error');
    expect(err).toMatch(new RegExp(`^REDIS_URL="${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" is invalid: .*percent-encoded \\(# as %23`, 'm'));
    expect(err + out).not.toContain('passREDIS');
    expect(err).not.toMatch(/\n\s+at /);
  }, 40_000);
});
