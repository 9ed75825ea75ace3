/**
 * A web-only install (no Slack SDK) with SLACK_ variables set: `parley serve` and `parley check`
 * say what to install, as they do for a configuration error, instead of printing a stack.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const hider = new URL('../helpers/hide-packages.mjs', import.meta.url).pathname;

/** `parley <args>` with the Slack SDKs resolving as not installed; its exit code and output. */
function parleyWithoutSlackSdk(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', hider, '--import', 'tsx', 'cli/main.ts', ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: '0',
      LOG_LEVEL: 'silent',
      PARLEY_TEST_HIDE_PACKAGES: '@slack/bolt,@slack/web-api,@slack/socket-mode',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
    },
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, ...out })));
}

describe('the CLI without an adapter SDK', () => {
  it('parley serve names the install command, without a stack, and exits 1', async () => {
    const { code, stdout, stderr } = await parleyWithoutSlackSdk(['serve']);
    expect(code).toBe(1);
    expect(stderr).toContain('parley: missing dependency');
    expect(stderr).toContain('npm install @slack/bolt @slack/web-api @slack/socket-mode');
    expect(stdout + stderr).not.toMatch(/^\s+at /m);
  });

  it('parley check prints the lines it gathered, and the adapters line says what to install', async () => {
    const { code, stdout, stderr } = await parleyWithoutSlackSdk(['check']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ok +configuration: /m);
    expect(stdout).toMatch(/^ok +store and queue: /m);
    expect(stdout).toMatch(/^FAIL +adapters: .*npm install @slack\/bolt @slack\/web-api @slack\/socket-mode$/m);
    expect(stdout + stderr).not.toMatch(/^\s+at /m);
  });
});
