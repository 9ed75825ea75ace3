/** Slack installations for tests: what oauth.v2.access would have produced for a workspace. */
import type { Installation } from '@slack/oauth';
import { testEnv } from './web-bot.js';

/** A workspace installation with a bot token (and, by default, a refresh token and expiry). */
export function installation(teamId: string, token = `xoxb-${teamId}-secret-token`, extra: Partial<Installation<'v2', false>> = {}): Installation<'v2', false> {
  return {
    team: { id: teamId, name: `Team ${teamId}` },
    enterprise: undefined,
    user: { id: 'U0INSTALLER', token: undefined, scopes: undefined },
    bot: { token, scopes: ['chat:write'], id: 'B0BOT', userId: 'U0BOT', refreshToken: `xoxe-1-${teamId}-refresh`, expiresAt: 1_900_000_000 },
    appId: 'A0PARLEY',
    tokenType: 'bot',
    isEnterpriseInstall: false,
    authVersion: 'v2',
    ...extra,
  };
}

/**
 * The settings of a Slack app for many workspaces on Redis (OAuth on, installations sealed with
 * `keys`), against the fake Slack and AI at `urls`, as `parley serve` / `parley worker` read them.
 */
export function oauthBotEnv(urls: { slack: string; ai: string }, redis: { url: string; prefix: string }, keys: readonly Buffer[]): Record<string, string> {
  return {
    ...testEnv,
    OPENAI_BASE_URL: urls.ai,
    OPENAI_API_KEY: 'test-key',
    WEB_CHAT: 'false',
    JOB_ATTEMPTS: '3',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_API_URL: urls.slack,
    ...oauthVariables(redis, keys),
  };
}

/** The variables of an OAuth app (many workspaces) with its installations on Redis under `redis.prefix`: startSlackBot's overrides. */
export function oauthVariables(redis: { url: string; prefix: string }, keys: readonly Buffer[]): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: '',
    REDIS_URL: redis.url,
    REDIS_PREFIX: redis.prefix,
    SLACK_CLIENT_ID: '1111.2222',
    SLACK_CLIENT_SECRET: 'fake-client-secret-0123456789',
    SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789',
    SLACK_INSTALLATION_KEY: keys.map((key) => key.toString('base64')).join(','),
  };
}
