/**
 * `parley worker` lowers its CPU priority when asked (WORKER_NICE, default 0), so that a `parley serve` on the
 * same host acknowledges webhooks before the worker's answers take the cores. Read from the kernel
 * (every thread of the child on Linux), on a real Redis.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, requireRedis } from '../integration/redis-helpers.js';

let child: ChildProcessWithoutNullStreams | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

/** `parley worker` on Redis (under `nice -n <startedAt>` when given); its output as it comes. */
function worker(env: Record<string, string>, startedAt?: number) {
  const args = parleyArgs('worker');
  const [command, argv] = startedAt === undefined ? [process.execPath, args] : ['nice', ['-n', String(startedAt), process.execPath, ...args]];
  child = spawn(command, argv, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', REDIS_URL, REDIS_PREFIX: `nice-${process.pid}-${Date.now()}`, METRICS_PORT: 'off', ...env },
    cwd: new URL('../..', import.meta.url).pathname,
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

/**
 * A process's niceness: on Linux its threads' least (each thread has its own there, and V8's run
 * beside the main one from the start), from /proc/<pid>/task/<tid>/stat (the 19th field).
 */
function niceOf(pid: number): number {
  if (process.platform !== 'linux') return getPriority(pid);
  const threads = readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // a thread that ended since it was listed
    }
  });
  return Math.min(...threads);
}

/** The worker's niceness once it says it runs (every thread's), and the niceness its line gives. */
async function runningNice(env: Record<string, string>, startedAt?: number): Promise<{ kernel: number; logged: number }> {
  const { child: started, out } = worker(env, startedAt);
  await until(() => out.stdout.includes('parley worker running'), 'the worker to run', 15_000);
  const line = out.stdout.split('\n').find((l) => l.includes('parley worker running'))!;
  return { kernel: niceOf(started.pid!), logged: (JSON.parse(line) as { nice: number }).nice };
}

describe('parley worker and WORKER_NICE', () => {
  it('runs as started by default; WORKER_NICE=10 lowers it (every thread); started nicer, it stays so', async () => {
    await requireRedis();
    const ours = getPriority();
    expect(await runningNice({ WORKER_NICE: '10' })).toEqual({ kernel: Math.max(10, ours), logged: Math.max(10, ours) });
    child!.kill('SIGKILL');
    expect(await runningNice({})).toEqual({ kernel: ours, logged: ours });
    child!.kill('SIGKILL');
    // nice -n adds to the niceness it is started at (at most 19).
    const startedAt = Math.min(19, ours + 15);
    expect(await runningNice({ WORKER_NICE: '5' }, 15)).toEqual({ kernel: startedAt, logged: startedAt });
  }, 60_000);

  it('WORKER_NICE out of range is a configuration error naming the fix (exit 1)', async () => {
    const { out, exited } = worker({ WORKER_NICE: '25' });
    expect(await exited).toBe(1);
    expect(out.stderr).toMatch(/WORKER_NICE="25" is invalid\. Fix: set WORKER_NICE/);
  });
});
