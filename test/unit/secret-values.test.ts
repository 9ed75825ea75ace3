/**
 * Configured secrets quoted back in a third party's error text: hidden where that text enters
 * parley's errors and log lines (Twilio's errors, the Slack SDK's lines), and nowhere else. Secrets
 * never configured are hidden by their shape (a URL's password, an authorization header's credential,
 * Slack tokens, OpenAI keys); ordinary text of the same look is not.
 */
import fc from 'fast-check';
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

describe('hideSecrets: secrets parley never configured, by their shape', () => {
  it("a URL's password (a provider's or proxy's error quoting it): scheme, user and host kept", () => {
    expect(hideSecrets('connect failed: postgres://user:p4ssw0rd@db.internal:5432/app')).toBe('connect failed: postgres://user:<hidden>@db.internal:5432/app');
    expect(hideSecrets('502 from https://user:secret@gateway/v1/chat/completions')).toBe('502 from https://user:<hidden>@gateway/v1/chat/completions');
    expect(hideSecrets('redis://:only-a-password@localhost:6379 refused')).toBe('redis://:<hidden>@localhost:6379 refused');
    // A password holding an `@`, then an e-mail address: the host is the one after the last `@` of the URL.
    expect(hideSecrets('postgres://app:p@ss-word@db.example.com/x, ask ops@example.com')).toBe('postgres://app:<hidden>@db.example.com/x, ask ops@example.com');
    expect(hideSecrets('git: https://me@corp.com:t0ken-value@git.example.com/r.git')).toBe('git: https://me@corp.com:<hidden>@git.example.com/r.git');
  });

  it("property: a URL's password without a space, whatever else it holds, never shows; its user, host and the rest are kept", () => {
    const scheme = fc.constantFrom('postgres', 'rediss', 'https', 'amqp', 'mongodb+srv');
    const user = fc.stringMatching(/^[A-Za-z0-9._-]{0,8}$/);
    const password = fc.string({ unit: fc.constantFrom(...'abcXYZ019,@/#:!$%&*+=;'.split('')), minLength: 1, maxLength: 24 });
    const host = fc.constantFrom('127.0.0.1:5432', 'db.example.com', 'gateway:8080', 'localhost', '[::1]:6380', 'proxy-1.internal:8080');
    const path = fc.constantFrom('', '/app', '/v1/chat/completions?x=1');
    const tail = fc.constantFrom('', ' owner ops@example.com', ' failed: ECONNREFUSED', ' (see https://docs.example.com/x)');
    fc.assert(
      fc.property(scheme, user, password, host, path, tail, (s, u, pw, h, p, t) => {
        expect(hideSecrets(`upstream said ${s}://${u}:${pw}@${h}${p}${t}`)).toBe(`upstream said ${s}://${u}:<hidden>@${h}${p}${t}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('a URL without a password, and file URLs in a stack, are left as they are', () => {
    const texts = [
      'see https://user@host.example.com/x and https://api.example.com:8443/v1?q=1 or mail ops@example.com',
      'Error: boom\n    at f (file:///app/node_modules/@slack/web-api/dist/client.js:12:5)\n    at g (file:///C:/app/node_modules/@scope/b.js:1:2)',
      'redis://user:@host.example.com:6379',
    ];
    for (const text of texts) expect(hideSecrets(text)).toBe(text);
  });

  it("a host:port URL followed, past a space, by an `@` that is no host's (a stack's @scope/, a user's name): left as it is", () => {
    const texts = [
      'request to http://localhost:8080/v1/chat/completions failed, reason: connect ECONNREFUSED\n    at f (/app/node_modules/@slack/web-api/dist/client.js:12:5)',
      'Error: 502 from http://proxy:3128/openai\n    at Object.<anonymous> (/srv/node_modules/@aws-sdk/client-sqs/dist/index.js:1:2)',
      'upstream http://10.0.0.5:8080/health said: user@host not found',
    ];
    for (const text of texts) expect(hideSecrets(text)).toBe(text);
    // A password before such text is still hidden, up to its own host.
    expect(hideSecrets('postgres://u:pw0rd-x@db.example.com/x said user@host')).toBe('postgres://u:<hidden>@db.example.com/x said user@host');
  });

  it("the credential after an authorization header's Bearer or Basic, as a header or JSON, any case", () => {
    expect(hideSecrets('401; sent Authorization: Bearer proxy.token-VALUE_1 upstream')).toBe('401; sent Authorization: Bearer <hidden> upstream');
    expect(hideSecrets('{"headers":{"authorization":"Bearer abc/def+ghi=="}}')).toBe('{"headers":{"authorization":"Bearer <hidden>"}}');
    expect(hideSecrets('{ "Authorization": "basic dXNlcjpwYXNz" }')).toBe('{ "Authorization": "basic <hidden>" }');
    expect(hideSecrets("{ authorization: 'Bearer tok' }, Proxy-Authorization: Basic Zm9vOmJhcg==, next")).toBe("{ authorization: 'Bearer <hidden>' }, Proxy-Authorization: Basic <hidden>, next");
    expect(hideSecrets('AUTHORIZATION=BEARER TOKEN123')).toBe('AUTHORIZATION=BEARER <hidden>');
    // JSON quoted inside a JSON string (a proxy's error carrying the upstream's): escaped quotes.
    expect(hideSecrets('{"error":"upstream said {\\"authorization\\":\\"Bearer up.stream-TOKEN\\"}"}')).toBe('{"error":"upstream said {\\"authorization\\":\\"Bearer <hidden>\\"}"}');
    // Escaped twice (that error quoted in turn by a second proxy).
    const twice = JSON.stringify({ error: `proxy said ${JSON.stringify({ error: `upstream said ${JSON.stringify({ authorization: 'Bearer up.stream-TOKEN' })}` })}` });
    expect(hideSecrets(twice)).not.toContain('up.stream-TOKEN');
    expect(JSON.parse(JSON.parse(JSON.parse(hideSecrets(twice)).error.slice('proxy said '.length)).error.slice('upstream said '.length))).toEqual({ authorization: 'Bearer <hidden>' });
  });

  it('"bearer" or "basic" in prose, not after an authorization header\'s name, is left as it is', () => {
    const text = 'the bearer of bad news: authorization failed, send a Bearer token; Basic auth is off. Authorization: required';
    expect(hideSecrets(text)).toBe(text);
  });

  it('OpenAI-shaped keys (sk-…, sk-proj-…), as a 401 quotes them', () => {
    expect(hideSecrets('Incorrect API key provided: sk-abc123def456ghi789jkl012. You can find your API key at …')).toBe('Incorrect API key provided: <hidden>. You can find your API key at …');
    expect(hideSecrets('key sk-proj-AbC_dEf-1234567890123456789012 refused')).toBe('key <hidden> refused');
  });

  it('not a short sk- word, nor sk- inside a word', () => {
    const text = 'sk-short, task-abcdefghijklmnopqrstuvwxyz0123 and risk-assessment-of-the-whole-thing';
    expect(hideSecrets(text)).toBe(text);
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
