/**
 * The bench's child processes: spawned on loopback, their URL read from the first log line that
 * carries one, stdout drained for their whole life (as a log shipper would), and all of them
 * killed when the bench ends — normally, on an error, or on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

export interface Child {
  url: string;
  child: ChildProcess;
  /** Stop the child and wait until it has exited, so the next measurement has the CPU to itself. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Run `node --import tsx <args>` and resolve once it logs `"url":"http://…"`. */
export function startChild(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const stop = async (signal: NodeJS.Signals = 'SIGKILL') => {
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
      reject(new Error(`${args.join(' ')}: no "url" log line within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      if (found) return; // keep draining
      seen += d.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(seen);
      if (match) {
        found = true;
        seen = '';
        clearTimeout(timer);
        resolve({ url: match[1]!, child, stop });
      }
    });
    void exited.then(() => {
      if (found) return;
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (code ${child.exitCode}, signal ${child.signalCode}) before listening:\n${seen}`));
    });
  });
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

// Last resort: a bench that dies (or is interrupted) must not leave servers behind.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
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
    ...overrides,
  };
}
