/**
 * `parley --version` (-v) prints the package's version; `--help` (-h), with or without a command, the usage: both exit 0.
 * A word that is no command is refused with them as without them (unknown command, the usage, exit 2).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function parley(args: string[]) {
  const run = spawnSync(process.execPath, parleyArgs(...args), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('parley --version and --help', () => {
  it.each(['--version', '-v', 'serve --version'])('parley %s prints the version and exits 0', (line) => {
    const { code, out, err } = parley(line.split(' '));
    expect(out).toBe(`${version}\n`);
    expect(err).toBe('');
    expect(code).toBe(0);
  }, 40_000);

  // These already worked; kept beside --version so neither is lost.
  it.each(['--help', 'serve --help', 'worker -h', 'dlq --help'])('parley %s prints the usage and exits 0', (line) => {
    const { code, out, err } = parley(line.split(' '));
    expect(out).toMatch(/^usage: parley <command>\n/);
    expect(out).toContain('parley --version | --help');
    expect(out).toContain('serve [--no-worker]');
    expect(err).toBe('');
    expect(code).toBe(0);
  }, 40_000);

  it.each(['--version extra', '-v extra', 'extra --version', '--help extra', 'extra -h'])('parley %s refuses the unknown command and exits 2', (line) => {
    const { code, out, err } = parley(line.split(' '));
    expect(out).toBe('');
    expect(err).toMatch(/^parley: unknown command "extra"\n\nusage: parley <command>\n/);
    expect(code).toBe(2);
  }, 40_000);
});
