/**
 * `parley check` fails what `parley serve` and `parley aws setup` refuse: an adapter's path on an
 * operational route (createBot's route checks, named by the path's variable), and an SQS_QUEUE_URL
 * that is not a FIFO queue.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;

function check(env: Record<string, string>) {
  return spawnSync(process.execPath, parleyArgs('check'), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '12130', METRICS_PORT: 'off', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const slack = { SLACK_API_URL: 'http://127.0.0.1:12131/api/', SLACK_BOT_TOKEN: 'xoxb-abc', SLACK_SIGNING_SECRET: 'sigsecret123' };

describe('parley check and what serve refuses', () => {
  // As serve refuses it (createBot would), named by its variable as any bad value is.
  it.each(['/healthz', '/metrics'])('SLACK_EVENTS_PATH=%s: FAIL adapters, naming the variable', (path) => {
    const run = check({ ...slack, SLACK_EVENTS_PATH: path });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^FAIL {2}adapters: SLACK_EVENTS_PATH="${path}" is the server's own ${path} route, so no webhook would reach it\\. Fix: set SLACK_EVENTS_PATH to another path`, 'm'));
  }, 40_000);

  it('two adapters on one path: FAIL adapters', () => {
    const run = check({ ...slack, SLACK_EVENTS_PATH: '/web/messages', WEB_CHAT: 'true' });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^FAIL {2}adapters: createBot: /m);
  }, 40_000);

  // The web chat answers POST /web/sessions and /web/feedback itself: a webhook there got the chat's
  // answer (Twilio a 201 it takes for delivered), and serve started without a word.
  it.each([
    ['TWILIO_WHATSAPP_PATH', '/web/sessions', 'whatsapp', { TWILIO_ACCOUNT_SID: `AC${'a1'.repeat(16)}`, TWILIO_AUTH_TOKEN: 'test-auth-token-0123456789abcdef', TWILIO_WHATSAPP_FROM: 'whatsapp:+14155238886' }],
    ['INTERCOM_WEBHOOK_PATH', '/web/feedback', 'intercom', { INTERCOM_ACCESS_TOKEN: 'intercom-token-123', INTERCOM_CLIENT_SECRET: 'intercom-secret-123', INTERCOM_ADMIN_ID: '1' }],
  ])("%s=%s, a path the web chat serves POST on: FAIL adapters, as serve refuses it", (_variable, path, platform, env) => {
    const run = check({ ...env, [_variable]: path, WEB_CHAT: 'true' });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^FAIL {2}adapters: createBot: .*\\("${platform}"\\) has the path ${path}, where .*\\("web"\\) serves POST ${path}: its webhooks would never reach it\\. Fix: `, 'm'));
  }, 40_000);

  it('SQS_QUEUE_URL of a standard queue: FAIL, as parley aws setup refuses it (no call made)', () => {
    const run = check({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:12132', SQS_QUEUE_URL: 'http://127.0.0.1:12132/123456789012/orders' });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^FAIL {2}SQS queue: http:\/\/127\.0\.0\.1:12132\/123456789012\/orders: SQS_QUEUE_URL names "orders", which is not a FIFO queue: .*Fix: set SQS_QUEUE_URL to …\/orders\.fifo$/m);
  }, 40_000);
});
