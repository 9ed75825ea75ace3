/**
 * bot.close() with Redis unreachable: close() gives up at SHUTDOWN_TIMEOUT_MS and drops the
 * connections, and then the process must end by itself, as a script does with Redis up. Every
 * connection counts: the store's and the queue's (BullMQ's worker, its lock timer, its producer).
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
/** In this test's port range, and nothing listens on it: connections are refused. */
const CLOSED_PORT = 5701;

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

describe('bot.close() with Redis unreachable', () => {
  it('lets the process exit soon after close() resolves', async () => {
    expect(await refused(CLOSED_PORT)).toBe(true);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/close-unreachable.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', REDIS_URL: `redis://127.0.0.1:${CLOSED_PORT}` },
    });
    let out = '';
    let closedAt: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (closedAt === undefined && out.includes('closed')) closedAt = Date.now();
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const code = await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 40_000))]);
    if (code === 'running') child.kill('SIGKILL');
    // The message met the outage as documented, and close() resolved.
    expect(out).toContain('status 503');
    expect(closedAt, out).toBeDefined();
    expect(code, `still running ${Date.now() - closedAt!} ms after close() resolved:\n${out}`).toBe(0);
    // ioredis lets a dropped connection's socket go within 2 s.
    expect(Date.now() - closedAt!).toBeLessThan(5000);
  }, 60_000);
});
