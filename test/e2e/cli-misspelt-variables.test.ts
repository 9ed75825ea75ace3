/**
 * A misspelt variable is not read, so its setting silently keeps the default: `parley check`,
 * `parley serve` and `parley worker` name it, with the variable meant, and never print its value.
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
