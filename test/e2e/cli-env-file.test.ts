/**
 * The `.env` file in the working directory, as an operator writes it by hand: a line without `=`
 * is named (file and line, never its text) and left out without taking the next variable with it;
 * a `.env` that cannot be read stops the command with one line, exit 1.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const main = new URL('../../cli/main.ts', import.meta.url).pathname;
// Run from a directory of the test's own: tsx by its path and the repo's tsconfig (which maps `parley`), as neither is found from there.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TSX_TSCONFIG_PATH = new URL('../../tsconfig.json', import.meta.url).pathname;

function parley(cwd: string, args: string[]) {
  const run = spawnSync(process.execPath, ['--import', tsx, main, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TSX_TSCONFIG_PATH },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('parley and its .env file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-env-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a line without "=" is named by its number, not its text, and the variable on the next line still counts', () => {
    // A bad HISTORY_TURNS makes `check` print what it read without reaching out to anything.
    writeFileSync(join(dir, '.env'), '# my settings\nSLACK_BOT_TOKEN xoxb-typo-no-equals\nHISTORY_TURNS=many\n\n  # an indented comment\nMODE=sideways\n');
    const { code, err } = parley(dir, ['check']);
    const warnings = err.split('\n').filter((line) => line.includes('.env, line'));
    expect(warnings).toEqual(['parley: .env, line 2: no "=", so it is ignored. Fix: write it as NAME=value, or start it with # to keep it as a comment.']);
    expect(err).not.toContain('xoxb-typo');
    expect(err).toContain('HISTORY_TURNS="many" is invalid');
    expect(err).toContain('MODE="sideways" is invalid');
    expect(code).toBe(1);
  }, 40_000);

  it('quoted values over several lines are kept whole, and the environment wins over the file', () => {
    writeFileSync(join(dir, '.env'), 'SYSTEM_PROMPT="Be brief.\nNever guess"\nMODE=sideways\nHISTORY_TURNS=many\n');
    const run = spawnSync(process.execPath, ['--import', tsx, '-e', `
      process.env.MODE = 'direct';
      const { loadEnvFile } = await import(${JSON.stringify(new URL('../../cli/env-file.ts', import.meta.url).href)});
      const warnings = [];
      loadEnvFile('.env', process.env, (line) => warnings.push(line));
      console.log(JSON.stringify({ warnings, prompt: process.env.SYSTEM_PROMPT, mode: process.env.MODE, turns: process.env.HISTORY_TURNS }));
    `], { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', TSX_TSCONFIG_PATH } });
    expect(JSON.parse(run.stdout)).toEqual({ warnings: [], prompt: 'Be brief.\nNever guess', mode: 'direct', turns: 'many' });
  }, 40_000);

  it('a .env that is a directory: one line naming it, exit 1, no stack trace', () => {
    mkdirSync(join(dir, '.env'));
    const { code, out, err } = parley(dir, ['check']);
    expect(err.trim()).toBe('parley: cannot read .env (EISDIR): it should be a file of NAME=value lines. Fix: make it one, or remove it.');
    expect(out).toBe('');
    expect(code).toBe(1);
  }, 40_000);
});
