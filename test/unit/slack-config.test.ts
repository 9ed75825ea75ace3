/** Slack's configuration: one workspace (SLACK_BOT_TOKEN) or many (OAuth), and the errors that name what to set. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SLACK_SCOPES, slackConfigFromOptions } from '../../adapters/slack/config.js';
import { SLACK_PACKAGES } from '../../adapters/slack/sdk.js';
import { slackConfigFromEnv } from '../../adapters/slack/index.js';
import { ConfigError } from '../../src/index.js';

const key = randomBytes(32);
const oauthEnv = {
  SLACK_SIGNING_SECRET: 'signing-secret-123',
  SLACK_CLIENT_ID: '1111.2222',
  SLACK_CLIENT_SECRET: 'client-secret-123',
  SLACK_STATE_SECRET: 'state-secret-0123456789-0123456789',
  SLACK_INSTALLATION_KEY: key.toString('base64'),
};

function configError(env: Record<string, string>): string {
  try {
    slackConfigFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('Slack configuration', () => {
  it('one workspace, as before: a bot token and no oauth', () => {
    const config = slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'signing-secret-123' })!;
    expect(config.botToken).toBe('xoxb-1');
    expect(config.oauth).toBeUndefined();
  });

  it('a signing secret wrapped in quotes (a file that keeps them) is refused, not used with its quotes', () => {
    expect(() => slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: '"signing-secret-123"' })).toThrow(
      /^SLACK_SIGNING_SECRET="<hidden>" is wrapped in quotes.*Fix: remove the quotes/,
    );
  });

  it('many workspaces: the OAuth settings, no bot token, the default scopes and no redirect URI without PUBLIC_URL', () => {
    const config = slackConfigFromEnv(oauthEnv)!;
    expect(config.botToken).toBeUndefined();
    expect(config.oauth).toEqual({
      clientId: '1111.2222',
      clientSecret: 'client-secret-123',
      stateSecret: oauthEnv.SLACK_STATE_SECRET,
      installationKeys: [key],
      scopes: DEFAULT_SLACK_SCOPES.split(','),
      orgInstallsWithoutState: false,
      directInstall: false,
      redirectUri: undefined,
    });
    expect(config.oauth!.scopes).toEqual(expect.arrayContaining(['app_mentions:read', 'assistant:write', 'chat:write', 'im:history']));
  });

  it('SLACK_DIRECT_INSTALL=on: /slack/install redirects straight to Slack (off by default); a bad value is named', () => {
    expect(slackConfigFromEnv({ ...oauthEnv, SLACK_DIRECT_INSTALL: 'on' })!.oauth!.directInstall).toBe(true);
    expect(() => slackConfigFromEnv({ ...oauthEnv, SLACK_DIRECT_INSTALL: 'sometimes' })).toThrow(/SLACK_DIRECT_INSTALL/);
  });

  it('the redirect URI: SLACK_REDIRECT_URI, else PUBLIC_URL + /slack/oauth_redirect', () => {
    expect(slackConfigFromEnv({ ...oauthEnv, PUBLIC_URL: 'https://bot.example.com/' })!.oauth!.redirectUri).toBe('https://bot.example.com/slack/oauth_redirect');
    expect(slackConfigFromEnv({ ...oauthEnv, PUBLIC_URL: 'https://bot.example.com', SLACK_REDIRECT_URI: 'https://auth.example.com/slack/oauth_redirect' })!.oauth!.redirectUri).toBe(
      'https://auth.example.com/slack/oauth_redirect',
    );
  });

  it('SLACK_SCOPES and a rotated SLACK_INSTALLATION_KEY list', () => {
    const old = randomBytes(32);
    const config = slackConfigFromEnv({ ...oauthEnv, SLACK_SCOPES: 'chat:write, app_mentions:read', SLACK_INSTALLATION_KEY: `${key.toString('base64')},${old.toString('base64')}` })!;
    expect(config.oauth!.scopes).toEqual(['chat:write', 'app_mentions:read']);
    expect(config.oauth!.installationKeys).toEqual([key, old]);
  });

  it('OAuth without SLACK_INSTALLATION_KEY is refused, naming it', () => {
    const { SLACK_INSTALLATION_KEY: _, ...env } = oauthEnv;
    expect(configError(env)).toMatch(/^SLACK_INSTALLATION_KEY is missing: .*Fix: set SLACK_INSTALLATION_KEY/);
  });

  it('a partial OAuth setting names every variable missing', () => {
    expect(configError({ SLACK_SIGNING_SECRET: 'signing-secret-123', SLACK_CLIENT_ID: '1111.2222' })).toMatch(
      /^SLACK_CLIENT_SECRET, SLACK_STATE_SECRET, SLACK_INSTALLATION_KEY are missing/,
    );
  });

  it('a bad installation key is refused without echoing it', () => {
    const short = randomBytes(16).toString('base64');
    const message = configError({ ...oauthEnv, SLACK_INSTALLATION_KEY: `${key.toString('base64')},${short}` });
    expect(message).toMatch(/^SLACK_INSTALLATION_KEY="<hidden>" is invalid: key 2 of 2 is not base64 of 32 bytes \(got 16 bytes\)\. Fix: /);
    expect(message).not.toContain(short);
    expect(message).not.toContain(key.toString('base64'));
  });

  it('trims tokens and secrets read from a file (a trailing newline, as `echo tok > f` writes): an HTTP header would refuse it', () => {
    const one = slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1\n', SLACK_SIGNING_SECRET: 'signing-secret-123\n', SLACK_APP_TOKEN: ' xapp-1\r\n' })!;
    expect(one).toMatchObject({ botToken: 'xoxb-1', signingSecrets: ['signing-secret-123'], appToken: 'xapp-1' });
    const many = slackConfigFromEnv({
      ...oauthEnv,
      SLACK_CLIENT_ID: `${oauthEnv.SLACK_CLIENT_ID}\n`,
      SLACK_CLIENT_SECRET: `${oauthEnv.SLACK_CLIENT_SECRET}\n`,
      SLACK_STATE_SECRET: `${oauthEnv.SLACK_STATE_SECRET}\n`,
      SLACK_INSTALLATION_KEY: `${oauthEnv.SLACK_INSTALLATION_KEY}\n`,
    })!;
    expect(many.oauth).toMatchObject({ clientId: oauthEnv.SLACK_CLIENT_ID, clientSecret: oauthEnv.SLACK_CLIENT_SECRET, stateSecret: oauthEnv.SLACK_STATE_SECRET, installationKeys: [key] });
  });

  it('a short state secret is refused', () => {
    expect(configError({ ...oauthEnv, SLACK_STATE_SECRET: 'short' })).toMatch(/^SLACK_STATE_SECRET="<hidden>" is invalid: expected at least 32 characters/);
  });

  it('a bot token and OAuth together are refused: one workspace or many', () => {
    expect(configError({ ...oauthEnv, SLACK_BOT_TOKEN: 'xoxb-1' })).toMatch(/^SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set/);
  });

  it('OAuth still needs the signing secret (or an app token)', () => {
    const { SLACK_SIGNING_SECRET: _, ...env } = oauthEnv;
    expect(configError(env)).toMatch(/^SLACK_SIGNING_SECRET is missing: .*SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and SLACK_INSTALLATION_KEY/);
  });

  it('names every problem in one error: a short signing secret beside a half-configured OAuth, a bad value never called missing', () => {
    const message = configError({ SLACK_SIGNING_SECRET: 'short', SLACK_CLIENT_ID: '1111.2222', SLACK_STATE_SECRET: 'too-short' });
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/^SLACK_SIGNING_SECRET="<hidden>" is invalid/),
      expect.stringMatching(/^SLACK_STATE_SECRET="<hidden>" is invalid: expected at least 32 characters/),
      expect.stringMatching(/^SLACK_CLIENT_SECRET, SLACK_INSTALLATION_KEY are missing: installing the Slack app in many workspaces/),
    ]);
  });

  it('a bot token beside OAuth, a missing OAuth variable and a missing signing secret: all three in one error', () => {
    const { SLACK_SIGNING_SECRET: _, SLACK_INSTALLATION_KEY: __, ...env } = oauthEnv;
    const message = configError({ ...env, SLACK_BOT_TOKEN: 'xoxb-1' });
    expect(message).toMatch(/^SLACK_INSTALLATION_KEY is missing/m);
    expect(message).toMatch(/^SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set/m);
    expect(message).toMatch(/^SLACK_SIGNING_SECRET is missing/m);
  });

  it('one workspace: a bad bot token beside a missing signing secret', () => {
    const message = configError({ SLACK_BOT_TOKEN: 'not-a-token' });
    expect(message).toMatch(/^SLACK_BOT_TOKEN="<hidden>" is invalid/m);
    expect(message).toMatch(/^SLACK_SIGNING_SECRET is missing/m);
    expect(message).not.toContain('SLACK_BOT_TOKEN is missing');
  });

  it('SLACK_SUGGESTED_PROMPTS takes up to four prompts, as Slack does; a fifth is refused at start, naming the variable, not by Slack in every thread', () => {
    const one = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'signing-secret-123' };
    expect(slackConfigFromEnv({ ...one, SLACK_SUGGESTED_PROMPTS: 'a|b| c |d' })!.suggestedPrompts).toEqual(['a', 'b', 'c', 'd']);
    const message = configError({ ...one, SLACK_SUGGESTED_PROMPTS: 'a|b|c|d|e' });
    expect(message).toMatch(/^SLACK_SUGGESTED_PROMPTS=.*is invalid: .*at most 4 prompts.*Fix: set SLACK_SUGGESTED_PROMPTS to up to four prompts/);
    expect(() => slackConfigFromOptions({ botToken: 'xoxb-1', signingSecret: 'signing-secret-123', suggestedPrompts: ['a', 'b', 'c', 'd', 'e'] })).toThrow(/suggestedPrompts/);
    expect(slackConfigFromOptions({ botToken: 'xoxb-1', signingSecret: 'signing-secret-123', suggestedPrompts: ['a', 'b', 'c', 'd'] }).suggestedPrompts).toHaveLength(4);
  });

  it('a rotating bot token (xoxe.xoxb-) is refused at start saying why: it expires in 12 hours and a setting cannot refresh it', () => {
    const message = configError({ SLACK_BOT_TOKEN: 'xoxe.xoxb-1-abc', SLACK_SIGNING_SECRET: 'signing-secret-123' });
    expect(message).toMatch(/^SLACK_BOT_TOKEN=.*is invalid: a rotating token \(xoxe\.xoxb-…\) expires after 12 hours.*OAuth \(SLACK_CLIENT_ID\)/);
    expect(message).not.toContain('xoxe.xoxb-1-abc');
    expect(message).not.toContain('starting with xoxb-');
    expect(configError({ SLACK_BOT_TOKEN: 'nope', SLACK_SIGNING_SECRET: 'signing-secret-123' })).toMatch(/expected a bot token starting with xoxb-/);
  });

  it('neither a bot token nor OAuth: the bot token is what is missing', () => {
    expect(configError({ SLACK_SIGNING_SECRET: 'signing-secret-123' })).toMatch(/^SLACK_BOT_TOKEN is missing/);
  });
});

describe("Slack's packages, as the README tells to install them", () => {
  it('every Slack SDK parley loads, @slack/oauth included, is an optional peer dependency and in an npm install command of the README', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }> };
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const row = readme.split('\n').find((line) => line.startsWith('| `slackAdapter()` |'));
    // Under pnpm or Yarn PnP parley cannot load a package only Bolt depends on: each must be installed by name.
    const installed = [...(row ?? '').matchAll(/`npm install ([^`]+)`/g)].flatMap((match) => match[1]!.split(/\s+/));
    for (const name of [...SLACK_PACKAGES, '@slack/oauth']) {
      expect(pkg.peerDependencies[name], name).toBeDefined();
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(installed, name).toContain(name);
    }
  });
});
