/**
 * An error logged whole: the Slack SDK's error for a refused auth.test carries Slack's answer as
 * `err.data`, which can hold the request a proxy echoed back (its token, a configured secret).
 * parley's error serializer hides them anywhere in the error, not only in its message and stack.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { startAdapters } from '../../src/adapter-start.js';
import { adapterContext } from './helpers.js';
import { loggerOptions } from '../../src/observe/logger.js';
import { rememberSecrets } from '../../src/secret-values.js';
import { MemoryStore } from '../../src/store/index.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';

const BOT_TOKEN = 'xoxb-1111-2222-logSECRETbotToken';
const OTHER_WORKSPACE_TOKEN = 'xoxb-3333-4444-neverConfigured';
const SIGNING_SECRET = 'log-signing-SECRET-0123456789';

function capture() {
  const lines: string[] = [];
  return { lines, logger: pino(loggerOptions('info'), { write: (line: string) => void lines.push(line) }) };
}

describe('secrets anywhere in a logged error', () => {
  it("a Slack SDK-like error: neither a Slack token nor a configured secret in its data, at any depth", () => {
    rememberSecrets(SIGNING_SECRET);
    const { lines, logger } = capture();
    const data = { ok: false, error: 'invalid_auth', echoed: { request: { headers: [`Bearer ${OTHER_WORKSPACE_TOKEN}`], body: `signing=${SIGNING_SECRET}` } } };
    logger.warn({ err: Object.assign(new Error('An API error occurred: invalid_auth'), { code: 'slack_webapi_platform_error', data }) }, 'start failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('neverConfigured');
    expect(lines[0]).not.toContain(SIGNING_SECRET);
    const err = (JSON.parse(lines[0]!) as { err: { code: string; data: typeof data } }).err;
    expect(err.code).toBe('slack_webapi_platform_error');
    expect(err.data).toEqual({ ok: false, error: 'invalid_auth', echoed: { request: { headers: ['Bearer <hidden>'], body: 'signing=<hidden>' } } });
  });

  describe("the Slack adapter's auth.test refused at start (Slack faked over HTTP)", () => {
    let slackApi: FakeSlack;
    beforeAll(async () => {
      slackApi = await startFakeSlack();
      // A proxy in front of Slack that echoes the request it forwarded in its answer.
      slackApi.on('auth.test', (call) => ({ body: { ok: false, error: 'invalid_auth', proxy: { forwarded: { authorization: call.headers.authorization, echo: `token=${call.token}` } } } }));
    });
    afterAll(() => slackApi.close());

    it('the warning logs the error without the token', async () => {
      const { lines, logger } = capture();
      const slack = slackAdapter(slackConfigFromEnv({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slackApi.url })!);
      const store = new MemoryStore();
      const context = adapterContext(store, { logger });
      const starts = startAdapters([slack], () => context, logger, { initialMs: 1000, maxMs: 1000 });
      try {
        for (let waited = 0; !lines.some((l) => l.includes('adapter failed to start')) && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        starts.stop();
      }
      const line = lines.find((l) => l.includes('adapter failed to start'));
      expect(line).toContain('invalid_auth');
      expect(line).toContain('<hidden>');
      expect(line).not.toContain('logSECRETbotToken');
    });
  });
});
