/**
 * Slack's token rotation: a bot token that expires, and the installing user's token (what Bolt
 * hands your listeners as context.userToken), is exchanged for a new one with `oauth.v2.access`
 * (grant_type=refresh_token) through the client's SLACK_API_URL. Slack revokes the refresh token
 * once used: WorkspaceTokens makes sure only one exchange runs per installation.
 */
import type { Installation } from '@slack/oauth';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { PermanentError } from 'parley/adapter-kit';

type AnyInstallation = Installation<'v1' | 'v2', boolean>;

export interface RotationCredentials {
  /** A client without a token, pointed at SLACK_API_URL. */
  client: WebClient;
  clientId?: string;
  clientSecret?: string;
}

/** Whether the installation's rotating bot token expires within `marginMs` (a token without a refresh token never does). */
export function botExpiresWithin(installation: AnyInstallation, marginMs: number): boolean {
  return rotatingExpiresWithin(installation.bot, marginMs);
}

/** Whether the installing user's rotating token (Bolt's context.userToken) expires within `marginMs`. */
export function userExpiresWithin(installation: AnyInstallation, marginMs: number): boolean {
  return rotatingExpiresWithin(installation.user, marginMs);
}

/** Whether a rotating token of the installation, the bot's or the user's, expires within `marginMs`. */
export function expiresWithin(installation: AnyInstallation, marginMs: number): boolean {
  return botExpiresWithin(installation, marginMs) || userExpiresWithin(installation, marginMs);
}

/** Whether to refresh: a token about to expire, or its bot token is the one Slack refused (`stale`). */
export function dueForRefresh(installation: AnyInstallation, marginMs: number, stale: string | undefined): boolean {
  return Boolean(installation.bot?.refreshToken || installation.user?.refreshToken) && (expiresWithin(installation, marginMs) || (stale !== undefined && installation.bot?.token === stale));
}

/** What a refresh gave: the installation, and why the user's token could not be refreshed (it is kept as it was, or dropped once Slack refused its refresh token). */
export interface Rotation {
  installation: AnyInstallation;
  userError?: unknown;
}

/**
 * The installation with new tokens, as Bolt's InstallProvider.authorize refreshes them: the bot's
 * when due (throws when that fails: nothing was spent but its refresh token), then the installing
 * user's when due. A user token Slack will not refresh never fails the bot's: it stays while it
 * lasts, and one whose refresh token Slack refused is dropped (only a new installation brings it
 * back), so it is not offered again at every use.
 */
export async function rotated(current: AnyInstallation, credentials: RotationCredentials, marginMs: number, stale?: string, botRefused = false): Promise<Rotation> {
  let installation = current;
  // botRefused: Slack refused the bot's refresh token already (refresh-failures.ts); only the user's is refreshed.
  if (!botRefused && current.bot?.refreshToken && (botExpiresWithin(current, marginMs) || (stale !== undefined && current.bot.token === stale))) {
    installation = { ...installation, bot: { ...current.bot, ...(await exchange(current.bot.refreshToken, credentials)) } };
  }
  const user = current.user as AnyInstallation['user'] | undefined;
  if (!user?.refreshToken || !userExpiresWithin(current, marginMs)) return { installation };
  try {
    return { installation: { ...installation, user: { ...user, ...(await exchange(user.refreshToken, credentials)) } } };
  } catch (userError) {
    if (!refreshTokenRefused(userError)) return { installation, userError };
    return { installation: withoutUserToken(installation), userError };
  }
}

/** The installation without the installing user's token and its refresh token (the user's id and scopes stay). */
export function withoutUserToken(installation: AnyInstallation): AnyInstallation {
  const user = installation.user as AnyInstallation['user'] | undefined;
  return user ? { ...installation, user: { id: user.id, scopes: user.scopes, token: undefined } } : installation;
}

/** The refresh tokens of the stored installation a refresh spent: a save replaces only an installation that still has them. */
export interface SpentTokens {
  bot: string | undefined;
  /** Only when the user's token was refreshed (or dropped). */
  user?: string;
}

export function spentBy(updated: AnyInstallation, stored: AnyInstallation | undefined): SpentTokens {
  const user = stored?.user?.refreshToken;
  const userChanged = updated.user?.refreshToken !== user || updated.user?.token !== stored?.user?.token;
  return { bot: stored?.bot?.refreshToken, ...(user !== undefined && userChanged ? { user } : {}) };
}

/**
 * What a refresh writes over `stored` (undefined: nothing, an uninstall or a reinstall came meanwhile
 * and wins). Its bot part, when `stored` still has the bot refresh token it spent: that one is spent,
 * so the new one must not be lost. The refreshed user part only over the user refresh token it spent;
 * else the store's (a user token dropped meanwhile, tokens_revoked, stays dropped). The rest is the store's.
 */
export function refreshedOver(stored: AnyInstallation | undefined, refreshed: AnyInstallation, spent: SpentTokens): AnyInstallation | undefined {
  if (!stored || stored.bot?.refreshToken !== spent.bot) return undefined;
  const userSpent = spent.user !== undefined && stored.user?.refreshToken === spent.user;
  // Only the user's token was refreshed, over a user part since replaced: nothing of this refresh is left to keep.
  if (spent.user !== undefined && !userSpent && refreshed.bot?.refreshToken === spent.bot) return undefined;
  return { ...stored, bot: refreshed.bot, user: userSpent ? refreshed.user : stored.user } as AnyInstallation;
}

/** The log lines of a refresh: team, enterprise and user ids, never a token. */
export function logRotation(logger: Logger, where: Record<string, unknown>, before: AnyInstallation, { installation, userError }: Rotation): void {
  if (installation.bot?.token !== before.bot?.token) logger.info({ ...where, expiresAt: installation.bot?.expiresAt }, 'Slack bot token refreshed (token rotation)');
  const user = installation.user as AnyInstallation['user'] | undefined;
  if (user?.token && user.token !== before.user?.token) logger.info({ ...where, userId: user.id, expiresAt: user.expiresAt }, 'Slack user token refreshed (token rotation)');
  if (userError === undefined) return;
  const reason = String((userError as { message?: unknown }).message);
  if (user?.token) logger.warn({ ...where, userId: user.id, reason }, "could not refresh the installing user's Slack token (context.userToken) yet; keeping it while it lasts, a later use tries again");
  else logger.warn({ ...where, userId: user?.id, reason }, "Slack refused the refresh token of the installing user's token: dropped, your listeners get no context.userToken until the workspace installs the app again");
}

/** oauth.v2.access with grant_type=refresh_token: a new token, its refresh token and expiry. */
async function exchange(refreshToken: string, { client, clientId, clientSecret }: RotationCredentials): Promise<{ token: string; refreshToken: string; expiresAt: number }> {
  if (!clientId || !clientSecret) throw new Error('SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are needed to refresh a rotating token');
  const response = await client.oauth.v2.access({ client_id: clientId, client_secret: clientSecret, grant_type: 'refresh_token', refresh_token: refreshToken });
  if (!response.access_token || !response.expires_in) throw new Error('oauth.v2.access answered without a new token');
  return { token: response.access_token, refreshToken: response.refresh_token ?? refreshToken, expiresAt: Math.floor(Date.now() / 1000) + response.expires_in };
}

function rotatingExpiresWithin(holder: { refreshToken?: string; expiresAt?: number } | undefined, marginMs: number): boolean {
  return Boolean(holder?.refreshToken) && typeof holder?.expiresAt === 'number' && holder.expiresAt * 1000 - Date.now() <= marginMs;
}

/** Slack refused the refresh token (`invalid_refresh_token`: revoked, or spent already): it never works. */
export function refreshTokenRefused(error: unknown): boolean {
  return (error as { data?: { error?: unknown } }).data?.error === 'invalid_refresh_token';
}

/**
 * What a use of an expired token fails with when its refresh failed. Slack refusing the refresh token
 * (revoked, or spent) is for good: only a new installation brings the workspace back, so the reply is
 * dead-lettered at once rather than retried, each try spending another refresh. Anything else (Slack
 * unreachable, a 5xx) is retried.
 */
export function expiredUnrefreshed(where: string, error: unknown): Error {
  const reason = String((error as { message?: unknown }).message);
  if (refreshTokenRefused(error)) {
    return new PermanentError(`The Slack bot token for ${where} expired and Slack refused its refresh token (invalid_refresh_token): the workspace has to install the app again.`, 'slack_refresh_token_refused');
  }
  return new Error(`The Slack bot token for ${where} expired and could not be refreshed: ${reason}`);
}
