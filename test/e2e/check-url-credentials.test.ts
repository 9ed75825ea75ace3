/**
 * `parley check` never prints a URL's user and password: SQS_QUEUE_URL's FAIL line shows
 * `https://…@host/…`, as OPENAI_BASE_URL's line always did.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startPrivateRedis } from '../helpers/processes.js';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('parley check and credentials in URLs', () => {
  it('SQS_QUEUE_URL and OPENAI_BASE_URL: FAIL lines without user or password', async () => {
    const sqs = await closedPort();
    const ai = await closedPort();
    const run = spawnSync(process.execPath, parleyArgs('check'), {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        PORT: '0',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${sqs}`,
        SQS_QUEUE_URL: `http://AKIAUSER:SECRETsqspass@127.0.0.1:${sqs}/1/q.fifo`,
        OPENAI_BASE_URL: `http://aiuser:SECRETaipass@127.0.0.1:${ai}/v1`,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^FAIL {2}SQS queue: http://…@127\\.0\\.0\\.1:${sqs}/1/q\\.fifo: `, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^FAIL {2}AI provider: http://…@127\\.0\\.0\\.1:${ai}/v1: `, 'm'));
    expect(run.stdout + run.stderr).not.toContain('SECRET');
    expect(run.stdout + run.stderr).not.toContain('AKIAUSER');
  }, 40_000);
});

describe('Redis that does not answer', () => {
  it('parley check names where REDIS_URL points (host:port, never its password) and the variable', async () => {
    const redis = await closedPort();
    const run = spawnSync(process.execPath, parleyArgs('check'), {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', REDIS_URL: `redis://parley:SECRETredispw@127.0.0.1:${redis}` },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^FAIL {2}Redis: cannot reach 127\\.0\\.0\\.1:${redis} \\(REDIS_URL\\): `, 'm'));
    // Why: the refused connection, not ioredis' "Connection is closed." that says nothing of it.
    expect(run.stdout).toMatch(new RegExp(`^FAIL {2}Redis: .*ECONNREFUSED`, 'm'));
    expect(run.stdout).not.toContain('Connection is closed');
    expect(run.stdout + run.stderr).not.toContain('SECRET');
  }, 40_000);

  it('parley check says a Redis that refused the password refused it (not that it cannot be reached), without the password', async () => {
    const redis = await startPrivateRedis(['--requirepass', 'the-right-password']);
    try {
      const run = spawnSync(process.execPath, parleyArgs('check'), {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', REDIS_URL: `redis://:SECRETwrongpw@127.0.0.1:${redis.port}` },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(new RegExp(`^FAIL {2}Redis: 127\\.0\\.0\\.1:${redis.port} refused the user or password in REDIS_URL: WRONGPASS`, 'm'));
      expect(run.stdout + run.stderr).not.toContain('SECRET');
      // no password at all: the URL is missing one
      const bare = spawnSync(process.execPath, parleyArgs('check'), {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', REDIS_URL: `redis://127.0.0.1:${redis.port}` },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(bare.stdout).toMatch(new RegExp(`^FAIL {2}Redis: 127\\.0\\.0\\.1:${redis.port} needs a password, and REDIS_URL gives none: NOAUTH`, 'm'));
    } finally {
      await redis.stop();
    }
  }, 40_000);
});
