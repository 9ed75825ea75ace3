/**
 * A web-only install (no Slack SDK) with SLACK_ variables set, or one without the SQS SDK with
 * SQS_QUEUE_URL set: `parley serve`, `parley check` and `parley dlq` say what to install, as they do
 * for a configuration error, instead of printing a stack (or starting and refusing every message).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const hider = new URL('../helpers/hide-packages.mjs', import.meta.url).pathname;

const SLACK = { PARLEY_TEST_HIDE_PACKAGES: '@slack/bolt,@slack/web-api,@slack/socket-mode', SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test-signing-secret' };
// Nothing listens there: a start that got as far as calling SQS would fail differently.
const SQS = { PARLEY_TEST_HIDE_PACKAGES: '@aws-sdk/client-sqs', SQS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/parley.fifo', AWS_REGION: 'us-east-1' };

/** `parley <args>` with the packages `env` hides resolving as not installed; its exit code and output. */
function parleyWithout(env: Record<string, string>, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', hider, ...parleyArgs(...args)], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', LOG_LEVEL: 'silent', ...env },
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, ...out })));
}

describe('the CLI without an adapter SDK', () => {
  it('parley serve names the install command, without a stack, and exits 1', async () => {
    const { code, stdout, stderr } = await parleyWithout(SLACK, ['serve']);
    expect(code).toBe(1);
    expect(stderr).toContain('parley: missing dependency');
    expect(stderr).toContain('npm install @slack/bolt @slack/web-api @slack/socket-mode');
    expect(stdout + stderr).not.toMatch(/^\s+at /m);
  });

  it('parley check prints the lines it gathered, and the adapters line says what to install', async () => {
    const { code, stdout, stderr } = await parleyWithout(SLACK, ['check']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ok +configuration: /m);
    expect(stdout).toMatch(/^ok +store and queue: /m);
    expect(stdout).toMatch(/^FAIL +adapters: .*npm install @slack\/bolt @slack\/web-api @slack\/socket-mode$/m);
    expect(stdout + stderr).not.toMatch(/^\s+at /m);
  });

  it('parley serve and parley dlq with SQS_QUEUE_URL but no SQS SDK name the install command and exit 1', async () => {
    for (const args of [['serve'], ['dlq', 'list']]) {
      const { code, stdout, stderr } = await parleyWithout(SQS, args);
      expect(code, args.join(' ')).toBe(1);
      expect(stderr, args.join(' ')).toContain('npm install @aws-sdk/client-sqs');
      expect(stderr, args.join(' ')).not.toContain('cannot reach');
      expect(stdout + stderr).not.toMatch(/^\s+at /m);
    }
  });
});
