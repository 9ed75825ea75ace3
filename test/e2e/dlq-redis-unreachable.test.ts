/**
 * `parley dlq` against a Redis it cannot use says why in one line, exit 1, as the README's dead
 * letters section shows: one that takes the connection and never answers (not an "Error: …"
 * prefix), and a read-only replica (it answers PING, then refuses BullMQ's first write and drops
 * the connection: not ioredis's "Stream isn't writeable…" stack).
 */
import { spawn } from 'node:child_process';
import { describe, it } from 'vitest';
import { startBlackHole } from '../helpers/black-hole.js';
import { parleyArgs } from '../helpers/cli.js';
import { startPrivateRedis } from '../helpers/processes.js';

const root = new URL('../..', import.meta.url).pathname;

async function dlqList(env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, parleyArgs('dlq', 'list'), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', REDIS_PREFIX: `dlq-unreachable-${process.pid}`, ...env },
    timeout: 40_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { status, stdout, stderr };
}

describe.concurrent('parley dlq against a Redis it cannot use', () => {
  it('one that takes the connection and never answers: the plain reason, no "Error:" prefix, exit 1', async ({ expect }) => {
    const hole = await startBlackHole();
    try {
      const run = await dlqList({ REDIS_URL: hole.url.replace('http:', 'redis:') });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^parley dlq: cannot reach the queue \(REDIS_URL\): (not connected to Redis \(it took the connection but has not answered yet\)|no answer within 5 s)\. /m);
      expect(run.stderr).not.toContain('Error:');
    } finally {
      await hole.close();
    }
  }, 60_000);

  it('a read-only replica: named as one, exit 1, not a stack', async ({ expect }) => {
    const primary = await startPrivateRedis(['--appendonly', 'no']);
    const replica = await startPrivateRedis(['--appendonly', 'no', '--replicaof', '127.0.0.1', String(primary.port)]);
    try {
      const run = await dlqList({ REDIS_URL: replica.url });
      expect(run.status).toBe(1);
      expect(run.stderr.trim()).toBe(`parley dlq: 127.0.0.1:${replica.port} (REDIS_URL) is a read-only replica: point it at the primary (every write there is refused with READONLY).`);
      // The primary itself is read as usual.
      expect(await dlqList({ REDIS_URL: primary.url })).toMatchObject({ status: 0, stdout: 'no dead letters\n' });
    } finally {
      await Promise.all([replica.stop(), primary.stop()]);
    }
  }, 60_000);
});
