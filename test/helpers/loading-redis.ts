/**
 * Redis still loading its data set (after a restart, a replica's full sync): a real redis-server
 * held in its load until the test lets it finish, and a RESP server that refuses every command with
 * Redis's LOADING error (INFO too, which a real one answers).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './processes.js';

export interface LoadingRedis {
  url: string;
  /** Let the load run at full speed: the server is ready soon after. */
  finish(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A redis-server whose data set (KEYS keys in an RDB file) loads one key per 10 ms (key-load-delay)
 * and answers clients between every kilobyte: INFO says loading:1, every other command LOADING,
 * for half a minute unless finish() lifts the delay.
 */
export async function startLoadingRedis(): Promise<LoadingRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'parley-loading-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const filler = await runRedis(args, /Ready to accept connections/);
  const admin = new Redis(port, '127.0.0.1');
  try {
    const pipeline = admin.pipeline();
    for (let i = 0; i < KEYS; i++) pipeline.set(`k${i}`, 'v'.repeat(100));
    await pipeline.exec();
    await admin.save();
  } finally {
    admin.disconnect();
    await stopped(filler);
  }
  const loading = await runRedis([...args, '--key-load-delay', '10000', '--loading-process-events-interval-bytes', '1024'], /Loading RDB/);
  return {
    url: `redis://127.0.0.1:${port}`,
    async finish() {
      // CONFIG runs while loading; no ready check, which would wait for the load.
      const client = new Redis(port, '127.0.0.1', { enableReadyCheck: false, maxRetriesPerRequest: 1 });
      try {
        await client.config('SET', 'key-load-delay', '0');
      } finally {
        client.disconnect();
      }
    },
    stop: () => stopped(loading),
  };
}

const KEYS = 3000;

async function runRedis(args: string[], started: RegExp): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn('redis-server', args);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!started.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child;
}

async function stopped(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A server that answers every RESP command, whatever it is, with Redis's LOADING error. */
export async function startLoadingRefuser(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let pending = '';
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => {
      pending += data.toString('latin1');
      for (let command = commandLength(pending); command > 0; command = commandLength(pending)) {
        pending = pending.slice(command);
        socket.write('-LOADING Redis is loading the dataset in memory\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** How long the first whole command in `text` is (an array of bulk strings, as clients send), or 0 when it has not all arrived. */
function commandLength(text: string): number {
  const head = /^\*(\d+)\r\n/.exec(text);
  if (!head) return 0;
  let at = head[0].length;
  for (let i = 0; i < Number(head[1]); i++) {
    const bulk = /^\$(\d+)\r\n/.exec(text.slice(at));
    if (!bulk) return 0;
    at += bulk[0].length + Number(bulk[1]) + 2;
    if (at > text.length) return 0;
  }
  return at;
}
