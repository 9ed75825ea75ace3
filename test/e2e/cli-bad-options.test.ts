/**
 * A mistyped option on the `parley` command line, as an operator meets it: one line naming the
 * option, then the command's usage, exit 2 (as for other bad input), never parseArgs' stack trace.
 */
import { execFile } from 'node:child_process';
import { describe, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;

/** Run `parley <args>` to its end. Asynchronous, so the cases' processes start side by side (it.concurrent). */
function parley(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '12160', METRICS_PORT: 'off' };
    const child = execFile(process.execPath, parleyArgs(...args), { cwd: root, env, encoding: 'utf8', timeout: 30_000 }, (_error, out, err) => {
      resolve({ code: child.exitCode, out, err });
    });
  });
}

describe('parley with a mistyped option', () => {
  // Each case is a short process of its own that only reads its arguments: several at once (up to vitest's maxConcurrency).
  it.concurrent.for([
    { args: ['serve', '--no-workers'], line: 'parley serve: unknown option --no-workers', usage: 'usage: parley serve [--no-worker]' },
    { args: ['worker', '--concurrency'], line: 'parley worker: --concurrency needs a value', usage: 'usage: parley worker [--concurrency N]' },
    // Another command's option is refused too, not silently ignored.
    { args: ['serve', '--concurrency', '3'], line: 'parley serve: unknown option --concurrency', usage: 'usage: parley serve [--no-worker]' },
    { args: ['check', '--no-worker'], line: 'parley check: unknown option --no-worker', usage: 'usage: parley check' },
    { args: ['check', '--dm'], line: 'parley check: unknown option --dm', usage: 'usage: parley check' },
    { args: ['simulate', 'intercom', 'hi', '--dm'], line: 'parley simulate: unknown option --dm', usage: 'simulate intercom "text" [--conversation ID] [--url URL]' },
    // A value given to an option that takes none, and a value that is not what the option takes: said so, not "needs a value".
    { args: ['serve', '--no-worker=1'], line: 'parley serve: --no-worker takes no value', usage: 'usage: parley serve [--no-worker]' },
    { args: ['simulate', 'slack', 'hi', '--retry', '-1'], line: 'parley simulate: --retry takes a whole number of redeliveries (0 or more), not "-1"', usage: 'simulate slack "text"' },
    { args: ['simulate', 'slack', 'hi', '--retry=1.5'], line: 'parley simulate: --retry takes a whole number of redeliveries (0 or more), not "1.5"', usage: 'simulate slack "text"' },
    { args: ['worker', '--concurrency', '-2'], line: 'parley worker: --concurrency takes a whole number above 0, not "-2"', usage: 'usage: parley worker [--concurrency N]' },
    { args: ['worker', '--concurrency', '0x10'], line: 'parley worker: --concurrency takes a whole number above 0, not "0x10"', usage: 'usage: parley worker [--concurrency N]' },
    // Words a command does not take, and an option of another action.
    { args: ['check', 'extra', 'words'], line: 'parley check: unexpected argument "extra"', usage: 'usage: parley check' },
    { args: ['serve', 'now'], line: 'parley serve: unexpected argument "now"', usage: 'usage: parley serve [--no-worker]' },
    { args: ['aws', 'setup', 'everything'], line: 'parley aws: unexpected argument "everything"', usage: 'usage: parley aws setup' },
    { args: ['dlq', 'list', 'all'], line: 'parley dlq: unexpected argument "all"', usage: 'usage: parley dlq list' },
    { args: ['dlq', 'list', '--all'], line: 'parley dlq: unknown option --all', usage: 'usage: parley dlq list' },
    { args: ['simulate', 'slack', 'hello', 'there'], line: 'parley simulate: unexpected argument "there" (put a text of several words in quotes)', usage: 'simulate slack "text"' },
    // A second word the command does not know is named too (before the configuration is read: PORT is fine here, but need not be).
    { args: ['dlq', 'lsit'], line: 'parley dlq: unknown action "lsit" (list, show, replay, drop, purge)', usage: 'usage: parley dlq list' },
    { args: ['aws', 'init'], line: 'parley aws: unknown action "init" (setup)', usage: 'usage: parley aws setup' },
    { args: ['slack', 'seal'], line: 'parley slack: unknown action "seal" (reseal)', usage: 'usage: parley slack reseal' },
    { args: ['simulate', 'teams', 'hi'], line: 'parley simulate: unknown platform "teams" (slack, intercom, whatsapp)', usage: 'simulate whatsapp "text"' },
    // replay's two forms are one or the other: an ID given with --all is not silently dropped.
    { args: ['dlq', 'replay', 'abc', '--all'], line: 'parley dlq: replay takes an ID or --all, not both', usage: 'usage: parley dlq list' },
  ])('parley $args.0 $args.1: one line, the usage, exit 2', { timeout: 40_000 }, async ({ args, line, usage }, { expect }) => {
    const { code, out, err } = await parley(args);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n')[0]).toBe(line);
    expect(err).toContain(usage);
    expect(err).not.toMatch(/TypeError|ERR_PARSE_ARGS|\n\s+at /);
  });
});
