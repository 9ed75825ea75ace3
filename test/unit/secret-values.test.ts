/**
 * Configured secrets quoted back in a third party's error text: hidden where that text enters
 * parley's errors and log lines (Twilio's errors, the Slack SDK's lines), and nowhere else.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { slackSdkLogger } from '../../adapters/slack/sdk-logger.js';
import { slackConfigFromEnv } from '../../adapters/slack/config.js';
import { whatsappConfigFromEnv } from '../../adapters/whatsapp/config.js';
import { classifyTwilioError } from '../../adapters/whatsapp/errors.js';
import { hideSecrets, rememberSecrets } from '../../src/secret-values.js';

describe('hideSecrets', () => {
  it('replaces remembered values of 8+ characters, and each of a comma-separated list', () => {
    rememberSecrets('short', 'first-secret-value,second-secret-value');
    expect(hideSecrets('a short first-secret-value and second-secret-value')).toBe('a short <hidden> and <hidden>');
  });

  it('hides Slack tokens never configured (issued by OAuth, one per workspace) by their shape', () => {
    const text = 'token xoxb-9999-8888-oauthIssued, refresh xoxe-1-My0xLTk5OTk, app xapp-1-A0-123-abc, user xoxp-1-2-3-abcdef';
    expect(hideSecrets(text)).toBe('token <hidden>, refresh <hidden>, app <hidden>, user <hidden>');
    expect(hideSecrets('a well-known xox- prefix, and xoxb-short')).toBe('a well-known xox- prefix, and xoxb-short');
  });
});

describe('Twilio errors quoting the auth token', () => {
  it('the error (logged, and the dead letter reason) holds <hidden>', () => {
    const token = 'twilioAuthTokenSECRET0123456789';
    whatsappConfigFromEnv({ TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000', TWILIO_AUTH_TOKEN: token, TWILIO_WHATSAPP_FROM: 'whatsapp:+15550000000' });
    const error = classifyTwilioError({ status: 400, code: 21211, message: `Invalid parameter: Authorization ${token}` }) as Error;
    expect(error.message).toContain('Invalid parameter: Authorization <hidden>');
    expect(error.message).not.toContain(token);
  });
});

describe("the Slack SDK's lines quoting a token", () => {
  it('response_metadata messages and errors are logged with <hidden>', () => {
    const token = 'xoxb-1111-2222-SECRETslacktoken';
    slackConfigFromEnv({ SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: 'signing-secret-0123' });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const sdk = slackSdkLogger(() => logger);
    ['[ERROR] invalid token xoxb-1111-2222-SECRETslacktoken'].forEach(sdk.warn.bind(sdk));
    sdk.error(new Error(`An API error occurred: token ${token} revoked`));
    const logged = lines.join('\n');
    expect(logged).toContain('invalid token <hidden>');
    expect(logged).toContain('token <hidden> revoked');
    expect(logged).not.toContain('SECRETslacktoken');
  });
});

describe('tokens and secrets given to the adapters in code', () => {
  it('are hidden as the configured ones are (Slack: bot token, signing secret; Intercom: access token, client secret)', async () => {
    const { slackAdapter } = await import('../../adapters/slack/adapter.js');
    const { intercomAdapter } = await import('../../adapters/intercom/adapter.js');
    const slack = { botToken: 'xoxb-in-code-SECRET-0123456789', signingSecret: 'in-code-signing-SECRET-0123' };
    const intercom = { accessToken: 'in-code-intercom-TOKEN-0123456789', clientSecrets: ['in-code-intercom-SECRET-0123'] };
    slackAdapter(slack);
    intercomAdapter(intercom);
    const quoted = `refused ${slack.botToken} ${slack.signingSecret} ${intercom.accessToken} ${intercom.clientSecrets[0]}`;
    expect(hideSecrets(quoted)).toBe('refused <hidden> <hidden> <hidden> <hidden>');
  });
});

describe('credentials sent as `Authorization: Basic base64(user:password)`, quoted back', () => {
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it("Twilio's SID with each auth token, and a client's own API key and secret: the dead letter's text holds <hidden>", async () => {
    const { whatsappAdapter } = await import('../../adapters/whatsapp/adapter.js');
    const { default: twilio } = await import('twilio');
    const accountSid = `AC${'b2'.repeat(16)}`;
    const tokens = ['basic-auth-token-SECRET-0001', 'basic-auth-token-SECRET-0002'];
    whatsappAdapter({ accountSid, authTokens: tokens, from: 'whatsapp:+15550000000' });
    const [apiKey, apiSecret] = [`SK${'c3'.repeat(16)}`, 'api-key-SECRET-value-0003'];
    whatsappAdapter({ accountSid, authTokens: tokens, from: 'whatsapp:+15550000000', client: twilio(apiKey, apiSecret, { accountSid }) });
    for (const header of [basic(accountSid, tokens[0]!), basic(accountSid, tokens[1]!), basic(apiKey, apiSecret)]) {
      const error = classifyTwilioError({ status: 400, code: 21211, message: `Bad request; headers: {"Authorization":"${header}"}` }) as Error;
      expect(error.message).toContain('"Authorization":"Basic <hidden>"');
      expect(error.message).not.toContain(header);
    }
  });

  it("a URL's user name and password (sent as Basic, as curl does): hidden in that form too", async () => {
    const { collect } = await import('../../src/config.js');
    const { z } = await import('zod');
    collect({ SOME_WEBHOOK_URL: { schema: z.string(), fix: '' } }, { SOME_WEBHOOK_URL: 'https://alerts:p%40ss-SECRET-0004@hooks.example.com/x' });
    expect(hideSecrets(`refused ${basic('alerts', 'p@ss-SECRET-0004')}`)).toBe('refused Basic <hidden>');
  });
});
