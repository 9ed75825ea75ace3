/**
 * A misspelt variable is not read, so its setting silently keeps the default: `parley check`,
 * `parley serve` and `parley worker` name it, with the variable meant, and never print its value;
 * so does a configuration error that stops any of them.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';
import { until } from '../helpers/until.js';

const root = new URL('../..', import.meta.url).pathname;
const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', METRICS_PORT: 'off', LOG_LEVEL: 'info' };
const SECRET = 'sk-misspelt-never-printed';
const misspelt = { AI_BUDGET_USD_DAY: '20', OPENAI_API_KY: SECRET };

describe('misspelt parley variables', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  it('parley check warns about each, naming the variable meant, and still exits 0', () => {
    const run = spawnSync(process.execPath, parleyArgs('check'), { cwd: root, env: { ...base, ...misspelt }, encoding: 'utf8', timeout: 30_000 });
    expect(run.stdout).toMatch(/^warn {2}configuration: AI_BUDGET_USD_DAY is not a parley variable, so it is ignored: did you mean AI_BUDGET_USD_PER_DAY\?$/m);
    expect(run.stdout).toMatch(/^warn {2}configuration: OPENAI_API_KY is not a parley variable, so it is ignored: did you mean OPENAI_API_KEY\?$/m);
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    expect(run.stdout).not.toMatch(/^FAIL/m);
    expect(run.status).toBe(0);
  }, 40_000);

  // The variable a configuration error names as missing is often the one misspelt: name the slip with it.
  it.each(['serve', 'check'])('parley %s stopped by a configuration error names each misspelt variable with the errors', (command) => {
    const env = { ...base, SLACK_BOT_TOKEN: 'xoxb-local', SLACK_SIGNIN_SECRET: SECRET, PORT: '99999' };
    const run = spawnSync(process.execPath, parleyArgs(command), { cwd: root, env, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^parley: configuration error$/m);
    expect(run.stderr).toMatch(/^PORT="99999" is invalid/m);
    expect(run.stderr).toMatch(/^SLACK_SIGNING_SECRET is missing/m);
    expect(run.stderr).toMatch(/^SLACK_SIGNIN_SECRET is not a parley variable, so it is ignored: did you mean SLACK_SIGNING_SECRET\?$/m);
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  }, 40_000);

  it.each([
    ['serve', {}, 'parley listening on'],
    ['worker', { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `misspelt-${process.pid}-${Date.now()}` }, 'parley worker running'],
  ])('parley %s logs one warning for each as it starts', async (command, env, started) => {
    child = spawn(process.execPath, parleyArgs(command), { cwd: root, env: { ...base, ...env, ...misspelt } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await until(() => stdout.includes(started), `parley ${command} to start`, 15_000);
    const warnings = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; variable?: string; suggestion?: string })
      .filter((line) => line.msg.includes('is not a parley variable'));
    expect(warnings.map(({ level, variable, suggestion }) => ({ level, variable, suggestion }))).toEqual([
      { level: 40, variable: 'AI_BUDGET_USD_DAY', suggestion: 'AI_BUDGET_USD_PER_DAY' },
      { level: 40, variable: 'OPENAI_API_KY', suggestion: 'OPENAI_API_KEY' },
    ]);
    expect(stdout + stderr).not.toContain(SECRET);
  });
});
