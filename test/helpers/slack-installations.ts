/** Slack installations for tests: what oauth.v2.access would have produced for a workspace. */
import type { Installation } from '@slack/oauth';

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
