/**
 * The bench's child processes: spawned on loopback, ready once a log line says so (by default the
 * first one that carries a URL, which is then read from it), stdout drained for their whole life
 * (as a log shipper would, its first few error lines copied to the bench's stderr), and all of
 * them killed when the bench ends — normally, on an error, or on Ctrl-C. Clean-ups registered
 * with `onInterrupt` (Redis keys) still run after a Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
const interruptCleanups = new Set<() => Promise<void>>();

export interface Child {
  /** The URL from the ready line; '' for a child that serves no HTTP (a worker). */
  url: string;
  child: ChildProcess;
  /** Stop the child and wait until it has exited, so the next measurement has the CPU to itself. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ChildOptions {
  /** The log line that means "ready"; its first capture group, if any, is the URL. Default: a `"url":"http://…"` field. */
  ready?: RegExp;
  timeoutMs?: number;
  /** The checkout to run from (its `cli/main.ts`, its node_modules); default: this one. */
  cwd?: string;
  /** Open an IPC channel to the child (`child.send`, `process.send` in it). */
  ipc?: boolean;
}

const URL_LINE = /"url":"(http:\/\/[^"]+)"/;
/** Error log lines of one child copied to the bench's stderr, at most. */
const MAX_ERROR_LINES = 5;

/**
 * Node options for every child, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to
 * profile them (children are then stopped with SIGTERM, so the profile gets written).
 */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const DEFAULT_STOP: NodeJS.Signals = NODE_ARGS.length > 0 ? 'SIGTERM' : 'SIGKILL';

/** Run `node --import tsx <args>` and resolve once it logs its ready line. */
export function startChild(args: string[], env: NodeJS.ProcessEnv, { ready = URL_LINE, timeoutMs = 30_000, cwd, ipc = false }: ChildOptions = {}): Promise<Child> {
  const child = spawn(process.execPath, [...NODE_ARGS, '--import', 'tsx', ...args], { env, cwd, stdio: ['ignore', 'pipe', 'inherit', ...(ipc ? (['ipc'] as const) : [])] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const stop = async (signal: NodeJS.Signals = DEFAULT_STOP) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    // A graceful stop gets a few seconds; the bench does not wait on a slow drain.
    const force = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
  };
  return new Promise<Child>((resolve, reject) => {
    let seen = '';
    let found = false;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${args.join(' ')}: no ready log line (${ready.source}) within ${timeoutMs} ms`));
    }, timeoutMs);
    let partial: Buffer = Buffer.alloc(0);
    let errorLines = 0;
    child.stdout!.on('data', (d: Buffer) => {
      // Errors a child logs show on the bench's stderr (the first few), so a refusal has a reason.
      // Only a chunk that holds one is read as text: the bench shares the cores with what it
      // measures, and splitting every request line of a busy child cost it a share of them.
      // The lines this chunk completes (with the last chunk's unfinished one) are searched as bytes.
      const end = d.lastIndexOf(10) + 1;
      const complete = end === 0 ? undefined : partial.length > 0 ? Buffer.concat([partial, d.subarray(0, end)]) : d.subarray(0, end);
      partial = end === 0 ? Buffer.concat([partial, d]) : d.subarray(end);
      if (complete && errorLines < MAX_ERROR_LINES && (complete.includes('"level":50') || complete.includes('"level":60'))) {
        for (const line of complete.toString().split('\n')) {
          if (!/"level":(50|60)/.test(line) || errorLines++ >= MAX_ERROR_LINES) continue;
          console.error(`[${args.join(' ')}, pid ${child.pid}] ${line.length > 2000 ? `${line.slice(0, 2000)}…` : line}`);
        }
      }
      if (found) return; // keep draining
      seen += d.toString();
      const match = ready.exec(seen);
      if (match) {
        found = true;
        seen = '';
        clearTimeout(timer);
        resolve({ url: match[1] ?? '', child, stop });
      }
    });
    void exited.then(() => {
      if (found) return;
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${seen}`));
    });
  });
}

/**
 * Wait until a parley server's /readyz answers 200 (its store, queue and adapters are up), as a
 * load balancer's readiness probe would before sending it traffic.
 */
export async function waitUntilReady(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${url}/readyz`).then(
      async (response) => (await response.arrayBuffer(), response.status),
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url}/readyz did not answer 200 within ${timeoutMs} ms (last: ${status})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Kill every child still running and wait for them to go. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/**
 * Run `cleanup` after the children are killed should the bench be interrupted (Ctrl-C, SIGTERM);
 * returns a function that unregisters it. A normal end runs its own clean-ups.
 */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  interruptCleanups.add(cleanup);
  return () => void interruptCleanups.delete(cleanup);
}

// Last resort: a bench that dies (or is interrupted) must not leave servers behind.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    const giveUp = setTimeout(() => process.exit(130), 5000);
    void stopAllChildren()
      .then(() => Promise.allSettled([...interruptCleanups].map((cleanup) => cleanup())))
      .finally(() => {
        clearTimeout(giveUp);
        process.exit(130);
      });
  });
}

/**
 * The arguments of an ingress-only parley child (`serve --no-worker`). On the in-process queue,
 * which that command refuses (no worker could answer), bench/ingress-memory.ts runs the same serve.
 */
export function ingressOnly(env: NodeJS.ProcessEnv): string[] {
  return env.REDIS_URL || env.SQS_QUEUE_URL ? ['cli/main.ts', 'serve', '--no-worker'] : ['bench/ingress-memory.ts'];
}

/** The environment every parley child starts from: loopback, memory store, queue mode, no Socket Mode. */
export function parleyEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    MODE: 'queue',
    REDIS_URL: '',
    SLACK_BOT_TOKEN: '',
    SLACK_SIGNING_SECRET: '',
    SLACK_APP_TOKEN: '',
    // Several workers on one host: none serves /metrics (they would all try 9464).
    METRICS_PORT: 'off',
    ...overrides,
  };
}
