/**
 * What a failed refresh of a bot token leaves: the current token while it lasts, else the failure.
 *
 * A bot refresh token Slack refused (`invalid_refresh_token`: revoked, or spent already, e.g. by a
 * process killed after Slack answered its refresh and before it stored the new tokens) can never
 * work: this process remembers it (by installation and token, bounded) and offers it to Slack no
 * more, nor logs it again. Its access token is used while it lasts without a refresh per use; once
 * expired, a use fails for good (slack_refresh_token_refused). A new refresh token (a reinstall,
 * another process's refresh) is tried as usual; any other failure (Slack unreachable, a 5xx) is
 * not remembered: the next use tries again.
 */
import type { Installation } from '@slack/oauth';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { botExpiresWithin, expiredUnrefreshed, refreshTokenRefused } from './token-rotation.js';
import { describe, ids, type InstallationLookup } from './workspace-lookup.js';

type AnyInstallation = Installation<'v1' | 'v2', boolean>;

export class RefreshFailures {
  /** Bot refresh tokens Slack refused, by installation key and token: what Slack answered. */
  private readonly refused = new LRUCache<string, { error: unknown }>({ max: 10_000 });

  constructor(private readonly logger: () => Logger) {}

  /**
   * A refresh of `current` failed: its token while it lasts (a later use tries again, unless Slack
   * refused the refresh token), else the failure. `tokenRefused`: Slack refused the bot token itself, the call fails.
   */
  stillUsable(key: string, current: AnyInstallation, query: InstallationLookup, error: unknown, tokenRefused: boolean): AnyInstallation {
    const reason = String((error as { message?: unknown }).message);
    const spent = refreshTokenRefused(error) && current.bot?.refreshToken !== undefined;
    if (spent) this.refused.set(entry(key, current), { error });
    if (botExpiresWithin(current, 0)) throw expiredUnrefreshed(describe(query), error);
    const where = { ...ids(query), reason };
    if (tokenRefused) this.logger().warn(where, 'Slack refused a bot token and it could not be refreshed; the call fails (a later use tries again)');
    else if (spent) this.logger().warn(where, 'Slack refused the refresh token of a bot token; using the current one while it lasts, without trying it again (then the workspace has to install the app again)');
    else this.logger().warn(where, 'could not refresh a Slack bot token yet; using the current one while it lasts');
    return current;
  }

  /**
   * When Slack refused this installation's bot refresh token already: the installation as it is while
   * its token lasts (throws once it has expired), with no refresh to try; else undefined.
   */
  refusedBefore(key: string, current: AnyInstallation, query: InstallationLookup): AnyInstallation | undefined {
    const known = current.bot?.refreshToken !== undefined ? this.refused.get(entry(key, current)) : undefined;
    if (!known) return undefined;
    if (botExpiresWithin(current, 0)) throw expiredUnrefreshed(describe(query), known.error);
    return current;
  }
}

const entry = (key: string, installation: AnyInstallation) => `${key}\n${installation.bot?.refreshToken}`;
