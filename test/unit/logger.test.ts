/**
 * The logger's two faces, in a child process as a user meets them: JSON lines for collectors,
 * readable lines through pino-pretty on a terminal (or with LOG_FORMAT=pretty). Secrets are
 * redacted either way.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

function logOnce(format: string, flush = true): string {
  const script = `
    import { createLogger } from './src/observe/index.ts';
    const logger = createLogger('info', '${format}');
    logger.info({ token: 'xoxb-very-secret', platform: 'slack' }, 'hello from the logger');
    ${flush ? 'logger.flush?.();' : ''}
    setTimeout(() => { process.stdout.write('LATER\\n'); process.exit(0); }, 400);
  `;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 20_000 });
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('createLogger', () => {
  it('a JSON line waiting in the batch is written within a moment, not only at exit', () => {
    const lines = logOnce('json', false).trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'hello from the logger' });
    expect(lines.at(-1)).toBe('LATER');
  });

  it('writes JSON lines with secrets redacted', () => {
    const [line] = logOnce('json').trim().split('\n');
    const entry = JSON.parse(line!) as Record<string, unknown>;
    expect(entry).toMatchObject({ msg: 'hello from the logger', platform: 'slack', token: '[redacted]', level: 30 });
  });

  it('writes readable lines with LOG_FORMAT=pretty, still redacted', () => {
    const out = logOnce('pretty');
    expect(out).toContain('INFO');
    expect(out).toContain('hello from the logger');
    expect(out).toContain('[redacted]');
    expect(out).not.toContain('xoxb-very-secret');
    expect(() => JSON.parse(out.trim().split('\n')[0]!)).toThrow();
  });

  it('writes JSON when auto and stdout is not a terminal (a pipe, a log collector)', () => {
    expect(JSON.parse(logOnce('auto').trim().split('\n')[0]!)).toMatchObject({ msg: 'hello from the logger' });
  });
});
