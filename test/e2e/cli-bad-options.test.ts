/**
 * A mistyped option on the `parley` command line, as an operator meets it: one line naming the
 * option, then the command's usage, exit 2 (as for other bad input), never parseArgs' stack trace.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

function parley(args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('parley with a mistyped option', () => {
  it.each([
    { args: ['serve', '--no-workers'], line: 'parley serve: unknown option --no-workers', usage: 'usage: parley serve [--no-worker]' },
    { args: ['worker', '--concurrency'], line: 'parley worker: --concurrency needs a value', usage: 'usage: parley worker [--concurrency N]' },
    // Another command's option is refused too, not silently ignored.
    { args: ['serve', '--concurrency', '3'], line: 'parley serve: unknown option --concurrency', usage: 'usage: parley serve [--no-worker]' },
    { args: ['check', '--no-worker'], line: 'parley check: unknown option --no-worker', usage: 'usage: parley check' },
    { args: ['check', '--dm'], line: 'parley check: unknown option --dm', usage: 'usage: parley check' },
    { args: ['simulate', 'intercom', 'hi', '--dm'], line: 'parley simulate: unknown option --dm', usage: 'simulate intercom "text" [--conversation ID] [--url URL]' },
  ])('parley $args.0 $args.1: one line, the usage, exit 2', ({ args, line, usage }) => {
    const { code, out, err } = parley(args);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n')[0]).toBe(line);
    expect(err).toContain(usage);
    expect(err).not.toMatch(/TypeError|ERR_PARSE_ARGS|\n\s+at /);
  }, 40_000);
});
