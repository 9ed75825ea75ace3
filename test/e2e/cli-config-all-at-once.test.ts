/**
 * A configuration with several wrong variables, as an operator meets it: one run of serve, worker
 * or check names every one (the cross-variable checks and METRICS_PORT too), not one per run.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;

function parley(args: string[], env: Record<string, string>) {
  const run = spawnSync(process.execPath, parleyArgs(...args), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

const bad = {
  HOST: '0.0.0.0',
  WEB_CHAT: 'true',
  AI_BUDGET_POLICY: 'fallback',
  METRICS_PORT: '9464x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  REDIS_PREFIX: `cfg-all-${process.pid}`,
  PORT: 'abc',
};

describe('a configuration with several wrong variables', () => {
  it.each([
    { command: 'worker', metrics: true },
    { command: 'check', metrics: true },
    // serve never reads METRICS_PORT.
    { command: 'serve', metrics: false },
  ])('parley $command names every one in one run, exit 1', ({ command, metrics }) => {
    const { code, err } = parley([command], bad);
    expect(code).toBe(1);
    expect(err).toContain('parley: configuration error');
    expect(err).toMatch(/^PORT="abc" is invalid/m);
    expect(err).toMatch(/^AI_BUDGET_POLICY="fallback" needs a cheaper model/m);
    expect(err).toMatch(/^WEB_SESSION_SECRET is required/m);
    if (metrics) expect(err).toMatch(/^METRICS_PORT="9464x" is invalid/m);
    else expect(err).not.toContain('METRICS_PORT');
    expect(err).not.toMatch(/\n\s+at /);
  }, 40_000);

  it('parley worker: the cross-variable checks show beside each other when every variable parses', () => {
    const { code, err } = parley(['worker'], { ...bad, PORT: '0' });
    expect(code).toBe(1);
    expect(err).toMatch(/^AI_BUDGET_POLICY="fallback"/m);
    expect(err).toMatch(/^WEB_SESSION_SECRET is required/m);
    expect(err).toMatch(/^METRICS_PORT="9464x" is invalid/m);
  }, 40_000);

  it.each(['serve', 'check'])("parley %s names every platform's every problem in one run: bad values beside the checks across variables", (command) => {
    const { code, out, err } = parley([command], {
      PORT: '0',
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'x',
      SLACK_SIGNING_SECRET: 'short',
      SLACK_CLIENT_ID: '1111.2222',
      INTERCOM_CLIENT_SECRET: 'short',
    });
    expect(code).toBe(1);
    const told = out + err;
    expect(told).toMatch(/^(FAIL {2}adapters: )?TWILIO_AUTH_TOKEN="<hidden>" is invalid/m);
    expect(told).toMatch(/^TWILIO_WHATSAPP_FROM is missing/m);
    expect(told).toMatch(/^(FAIL {2}adapters: )?SLACK_SIGNING_SECRET="<hidden>" is invalid/m);
    expect(told).toMatch(/^SLACK_CLIENT_SECRET, SLACK_STATE_SECRET, SLACK_INSTALLATION_KEY are missing/m);
    expect(told).toMatch(/^(FAIL {2}adapters: )?INTERCOM_CLIENT_SECRET="<hidden>" is invalid/m);
    expect(told).toMatch(/^INTERCOM_ACCESS_TOKEN is missing/m);
    expect(told).not.toMatch(/TWILIO_AUTH_TOKEN is missing|SLACK_SIGNING_SECRET is missing/);
  }, 40_000);

  it('parley check fails a bad METRICS_PORT that a worker would refuse', () => {
    const { code, out } = parley(['check'], { METRICS_PORT: 'zz' });
    expect(code).toBe(1);
    expect(out).toMatch(/^FAIL {2}configuration: METRICS_PORT="zz" is invalid/m);
  }, 40_000);

  it('parley serve --no-worker with the in-process queue (no REDIS_URL or SQS_QUEUE_URL) exits 2 with the fix, as parley worker does: nothing would answer', () => {
    const { code, err } = parley(['serve', '--no-worker'], { PORT: '0' });
    expect(code).toBe(2);
    expect(err).toContain('Set REDIS_URL');
    expect(err).toContain('without --no-worker');
  }, 40_000);
});
