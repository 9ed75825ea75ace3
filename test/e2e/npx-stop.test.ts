/**
 * `npx tsx cli/main.ts serve` under a supervisor that signals only the process it started (npx):
 * npm's shell dies on the SIGTERM without passing it on, and tsx (which relays the signals it gets)
 * gets none, so the server must notice npm has gone though its own parent, tsx, is still there.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, it } from 'vitest';
import { until } from '../helpers/until.js';

/** The server's pid, from its log lines: it is npx's great-grandchild. */
const serverPid = (out: string): number | undefined => Number(/"pid":(\d+)/.exec(out)?.[1]) || undefined;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('started by npx', () => {
  let npx: ChildProcessWithoutNullStreams | undefined;
  let out = '';
  afterEach(() => {
    if (npx?.exitCode === null) npx.kill('SIGKILL');
    // An orphaned server would outlive the test otherwise.
    const pid = serverPid(out);
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    npx = undefined;
    out = '';
  });

  it('stops as on SIGTERM when a supervisor stops npx, though tsx sits between the two', async () => {
    npx = spawn('npx', ['tsx', 'cli/main.ts', 'serve'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', LOG_LEVEL: 'info' },
      cwd: new URL('../..', import.meta.url).pathname,
    });
    npx.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('parley listening on'), 'the server to listen', 20_000);
    const url = /"url":"(http:\/\/[^"]+)"/.exec(out)![1]!;
    npx.kill('SIGTERM');
    // The server drains and exits: its last line still reaches the pipe, and the port closes.
    await until(() => out.includes('"msg":"stopped"'), 'the server to stop', 15_000);
    await until(() => fetch(`${url}/healthz`).then(() => false, () => true), 'the port to close');
  }, 45_000);
});
