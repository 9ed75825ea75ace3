/**
 * Slack's token rotation: a bot token that expires is exchanged for a new one with
 * `oauth.v2.access` (grant_type=refresh_token) through the client's SLACK_API_URL. Slack revokes
 * the refresh token once used: WorkspaceTokens makes sure only one exchange runs per installation.
 */
import type { Installation } from '@slack/oauth';
import type { WebClient } from '@slack/web-api';
import { PermanentError } from 'parley/adapter-kit';

type AnyInstallation = Installation<'v1' | 'v2', boolean>;

export interface RotationCredentials {
  /** A client without a token, pointed at SLACK_API_URL. */
  client: WebClient;
  clientId?: string;
  clientSecret?: string;
}

/** Whether a rotating bot token expires within `marginMs` (a token without a refresh token never does). */
export function expiresWithin(installation: AnyInstallation, marginMs: number): boolean {
  const bot = installation.bot;
  return Boolean(bot?.refreshToken) && typeof bot?.expiresAt === 'number' && bot.expiresAt * 1000 - Date.now() <= marginMs;
}

/** Whether to refresh: about to expire, or its token is the one Slack refused (`stale`). */
export function dueForRefresh(installation: AnyInstallation, marginMs: number, stale: string | undefined): boolean {
  return expiresWithin(installation, marginMs) || (stale !== undefined && installation.bot?.token === stale);
}

/** The installation with a new bot token and refresh token; throws when Slack gives none. */
export async function rotated(current: AnyInstallation, { client, clientId, clientSecret }: RotationCredentials): Promise<AnyInstallation> {
  const refreshToken = current.bot?.refreshToken;
  if (!current.bot || !refreshToken) throw new Error('the installation has no refresh token');
  if (!clientId || !clientSecret) throw new Error('SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are needed to refresh a rotating token');
  const response = await client.oauth.v2.access({ client_id: clientId, client_secret: clientSecret, grant_type: 'refresh_token', refresh_token: refreshToken });
  if (!response.access_token || !response.expires_in) throw new Error('oauth.v2.access answered without a new token');
  return {
    ...current,
    bot: { ...current.bot, token: response.access_token, refreshToken: response.refresh_token ?? refreshToken, expiresAt: Math.floor(Date.now() / 1000) + response.expires_in },
  };
}

/**
 * What a use of an expired token fails with when its refresh failed. Slack refusing the refresh token
 * (revoked, or spent) is for good: only a new installation brings the workspace back, so the reply is
 * dead-lettered at once rather than retried, each try spending another refresh. Anything else (Slack
 * unreachable, a 5xx) is retried.
 */
export function expiredUnrefreshed(where: string, error: unknown): Error {
  const reason = String((error as { message?: unknown }).message);
  if ((error as { data?: { error?: unknown } }).data?.error === 'invalid_refresh_token') {
    return new PermanentError(`The Slack bot token for ${where} expired and Slack refused its refresh token (invalid_refresh_token): the workspace has to install the app again.`, 'slack_refresh_token_refused');
  }
  return new Error(`The Slack bot token for ${where} expired and could not be refreshed: ${reason}`);
}
