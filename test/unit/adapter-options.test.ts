/**
 * The adapter factories' typed options: only what has no default is needed (the rest as the env
 * variables' defaults), Bolt's `signingSecret` spelling works, and a missing option is a
 * ConfigError naming it rather than a TypeError or a webhook answering 404 or 503.
 */
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intercomAdapter } from '../../adapters/intercom/index.js';
import { slackAdapter } from '../../adapters/slack/index.js';
import { whatsappAdapter } from '../../adapters/whatsapp/index.js';
import { ConfigError, createBot, loadConfig, ParleyError, type Adapter } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';

// No platform is called: an unsigned request is refused before anything goes out.
beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());

/** POST an unsigned body to `path` of a bot on `adapter` (not started: start would call the platform). */
async function postUnsigned(adapter: Adapter, path: string, contentType: string, body: string): Promise<number> {
  const bot = createBot({ config: loadConfig(testEnv), adapters: [adapter], worker: false });
  try {
    const response = await bot.fetch(new Request(`http://127.0.0.1${path}`, { method: 'POST', headers: { 'content-type': contentType }, body }), { remoteAddress: '127.0.0.1' });
    return response.status;
  } finally {
    await bot.close();
  }
}

function thrown(build: () => unknown): ParleyError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ParleyError;
  }
  throw new Error('expected a ConfigError');
}

describe('adapter factories with minimal options', () => {
  it('slackAdapter({ botToken, signingSecrets }) serves /slack/events: an unsigned request is 401', async () => {
    const adapter = slackAdapter({ botToken: 'xoxb-1-2-3', signingSecrets: ['signing-secret-123'] });
    expect(adapter.path).toBe('/slack/events');
    expect(await postUnsigned(adapter, '/slack/events', 'application/json', '{"type":"event_callback"}')).toBe(401);
  });

  it("slackAdapter({ botToken, signingSecret }) takes Bolt's spelling", async () => {
    const adapter = slackAdapter({ botToken: 'xoxb-1-2-3', signingSecret: 'signing-secret-123' });
    expect(await postUnsigned(adapter, '/slack/events', 'application/json', '{"type":"event_callback"}')).toBe(401);
  });

  it('whatsappAdapter({ accountSid, authTokens, from }) serves /twilio/whatsapp: an unsigned request is 403 (as Twilio answers)', async () => {
    const adapter = whatsappAdapter({ accountSid: `AC${'0'.repeat(32)}`, authTokens: ['twilio-auth-token'], from: 'whatsapp:+14155238886' });
    expect(adapter.path).toBe('/twilio/whatsapp');
    expect(await postUnsigned(adapter, '/twilio/whatsapp', 'application/x-www-form-urlencoded', 'Body=hi&From=whatsapp%3A%2B15550001111')).toBe(403);
  });

  it('intercomAdapter({ accessToken, clientSecrets }) serves /intercom/webhook: an unsigned request is 401', async () => {
    const adapter = intercomAdapter({ accessToken: 'intercom-access-token', clientSecrets: ['intercom-client-secret'] });
    expect(adapter.path).toBe('/intercom/webhook');
    expect(await postUnsigned(adapter, '/intercom/webhook', 'application/json', '{"topic":"ping"}')).toBe(401);
  });
});

describe('adapter factories refuse missing options with a ConfigError naming them', () => {
  it('slackAdapter({}) and slackAdapter() name botToken', () => {
    for (const build of [() => slackAdapter({}), () => (slackAdapter as (o?: unknown) => unknown)()]) {
      const error = thrown(build);
      expect(error.code).toBe('parley_config_error');
      expect(error.message).toContain('botToken');
    }
  });

  it('slackAdapter({ botToken }) names the signing secret instead of answering every event 503', () => {
    expect(thrown(() => slackAdapter({ botToken: 'xoxb-1-2-3' })).message).toContain('signingSecret');
  });

  it('whatsappAdapter({}) names accountSid and authTokens; without a sender it names from; empty authTokens too', () => {
    const message = thrown(() => whatsappAdapter({} as never)).message;
    expect(message).toContain('accountSid');
    expect(message).toContain('authTokens');
    expect(thrown(() => whatsappAdapter({ accountSid: `AC${'0'.repeat(32)}`, authTokens: ['twilio-auth-token'] })).message).toContain('from');
    expect(thrown(() => whatsappAdapter({ accountSid: `AC${'0'.repeat(32)}`, authTokens: [], from: 'whatsapp:+14155238886' })).message).toContain('authTokens');
  });

  it('intercomAdapter({}) names accessToken and clientSecrets; a bad value is named without echoing it', () => {
    const message = thrown(() => intercomAdapter({} as never)).message;
    expect(message).toContain('accessToken');
    expect(message).toContain('clientSecrets');
    const bad = thrown(() => intercomAdapter({ accessToken: 'intercom-access-token', clientSecrets: ['intercom-client-secret'], path: 'no-slash' })).message;
    expect(bad).toContain('option path is invalid');
    expect(bad).not.toContain('intercom-client-secret');
    const timeout = thrown(() => intercomAdapter({ accessToken: 'intercom-access-token', clientSecrets: ['intercom-client-secret'], timeoutMs: 0 })).message;
    expect(timeout).toContain('option timeoutMs is invalid');
  });
});
