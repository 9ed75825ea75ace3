/**
 * SLACK_SIGNING_SECRET, TWILIO_AUTH_TOKEN and INTERCOM_CLIENT_SECRET hold several secrets,
 * comma-separated, while rotating: each is checked on its own, and a short one is refused naming
 * the variable (not the adapter's option) and the secret's place, never its value.
 */
import { describe, expect, it } from 'vitest';
import { intercomConfigFromEnv } from '../../adapters/intercom/config.js';
import { slackConfigFromEnv } from '../../adapters/slack/config.js';
import { whatsappConfigFromEnv } from '../../adapters/whatsapp/config.js';
import { ConfigError } from '../../src/index.js';

const LONG = 'long-enough-secret-1';
const SHORT = 'shrt';

const platforms = [
  { name: 'SLACK_SIGNING_SECRET', read: (value: string) => slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1-2', SLACK_SIGNING_SECRET: value })?.signingSecrets },
  {
    name: 'TWILIO_AUTH_TOKEN',
    read: (value: string) => whatsappConfigFromEnv({ TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: value, TWILIO_WHATSAPP_FROM: 'whatsapp:+14155238886' })?.authTokens,
  },
  { name: 'INTERCOM_CLIENT_SECRET', read: (value: string) => intercomConfigFromEnv({ INTERCOM_ACCESS_TOKEN: 'ic-access-token', INTERCOM_CLIENT_SECRET: value })?.clientSecrets },
];

function problem(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return 'no error';
}

describe.each(platforms)('$name while rotating', ({ name, read }) => {
  it('takes every secret of the list, trimmed', () => {
    expect(read(` ${LONG} , other-${LONG} `)).toEqual([LONG, `other-${LONG}`]);
  });

  it('refuses a short secret in the list by the variable and its place, never its value', () => {
    const message = problem(() => read(`${LONG},${SHORT}`));
    expect(message).toMatch(new RegExp(`^${name}="<hidden>" is invalid: secret 2 of 2 has 4 characters, expected at least 8\\. Fix: set ${name} `));
    expect(message).not.toContain(SHORT);
    expect(message).not.toContain(LONG);
  });

  it('refuses a list that holds no secret', () => {
    expect(problem(() => read(' , '))).toMatch(new RegExp(`^${name}="<hidden>" is invalid: holds no secret`));
  });
});
