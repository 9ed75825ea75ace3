/**
 * Real parley processes for multi-process tests: `serve --no-worker` ingress and `worker`
 * processes sharing one Redis, and a private redis-server that a test may stop and restart.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parleyArgs } from './cli.js';

const root = new URL('../..', import.meta.url).pathname;

export interface ParleyProcess {
  child: ChildProcessWithoutNullStreams;
  /** The HTTP base URL: serve's, or a worker's /metrics, /healthz and /readyz (METRICS_PORT). */
  url?: string;
  logs(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then wait for the exit code. */
  stop(): Promise<number | null>;
}

/** Spawn `parley <args>` and, for `serve`, wait until it listens. */
export async function startParley(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<ParleyProcess> {
  const child = spawn(process.execPath, parleyArgs(...args), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', PORT: '0', METRICS_PORT: '0', ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = args[0] === 'serve' ? /"url":"(http:\/\/[^"]+)"/ : /parley worker running/;
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(out)) {
    if (child.exitCode !== null) throw new Error(`parley ${args.join(' ')} exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`parley ${args.join(' ')} did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    child,
    url: (args[0] === 'serve' ? ready : /"metrics":"(http:\/\/[^"]+)\/metrics"/).exec(out)?.[1],
    logs: () => out,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its connections but answers nothing (a stalled Redis). */
  freeze(): void;
  thaw(): void;
}

/**
 * A redis-server of the test's own, on a free port, with an append-only file so a restart keeps
 * what was acknowledged (as a production queue Redis should). `port`: a fixed one, else any free one.
 */
export async function startPrivateRedis(extraArgs: string[] = [], fixedPort?: number): Promise<PrivateRedis> {
  const port = fixedPort ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'parley-redis-'));
  let child: ChildProcessWithoutNullStreams | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, ...extraArgs]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(out)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.on('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
  };
}
