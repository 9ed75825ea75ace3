/**
 * Slack's uninstall events: `app_uninstalled`, and `tokens_revoked` naming bot tokens, delete the
 * workspace's installation, unless it was installed again after the event (install-time.ts);
 * `tokens_revoked` naming only user tokens drops the installing user's token if it is one. Slack
 * sends an event again when it got no answer in time, and out of order; an admin can uninstall and
 * install again within seconds: a late uninstall must not delete the new installation.
 */
import type { Logger } from 'pino';
import { installedAtOf, predates } from './install-time.js';
import { ids, type EventBody, type InstallationLookup, type WorkspaceInstallations } from './workspace-lookup.js';

const STALE = 'Slack uninstall event older than the installation (installed again since): ignored, the installation is kept';

/** Events whose workspace may already be gone: Bolt skips authorize for them, and so does WorkspaceTokens. */
const UNINSTALL_EVENTS = new Set(['app_uninstalled', 'tokens_revoked']);

export function isUninstallEvent(envelope: EventBody): boolean {
  return typeof envelope.event?.type === 'string' && UNINSTALL_EVENTS.has(envelope.event.type);
}

/**
 * Carry out an uninstall event. 'deleted' (drop what the process holds of it), 'user dropped' (the
 * installing user's token revoked and dropped: the bot still answers; the process drops its copy),
 * 'kept' (nothing of the installation changed) or 'stale' (older than the installation: ignored, not
 * handed to listeners either, which would act on an uninstall of an installation since replaced).
 */
export async function uninstall(envelope: EventBody, query: InstallationLookup, installations: WorkspaceInstallations, logger: Logger): Promise<'deleted' | 'user dropped' | 'kept' | 'stale'> {
  const kind = envelope.event?.type;
  const eventTime = typeof envelope.event_time === 'number' && envelope.event_time > 0 ? envelope.event_time : undefined;
  if (kind === 'tokens_revoked') {
    const bots = envelope.event?.tokens?.bot;
    if (!Array.isArray(bots) || bots.length === 0) return dropUserToken(envelope, query, installations, eventTime, logger);
  }
  // No event_time (not as Slack sends it): nothing to compare, deleted as before.
  const outcome = eventTime === undefined ? (await installations.deleteInstallation?.(query), { deleted: true as const }) : await deleteUnlessNewer(installations, query, eventTime);
  if (!outcome.deleted) {
    logger.info(
      { ...ids(query), event: kind, eventTime: new Date(eventTime! * 1000).toISOString(), installedAt: new Date(outcome.installedAt).toISOString() },
      STALE,
    );
    return 'stale';
  }
  logger.info({ ...ids(query), event: kind }, 'Slack app uninstalled (or its bot token revoked) in a workspace: its installation is deleted');
  return 'deleted';
}

async function deleteUnlessNewer(installations: WorkspaceInstallations, query: InstallationLookup, eventTime: number): Promise<{ deleted: true } | { deleted: false; installedAt: number }> {
  if (installations.deleteInstallationUninstalledAt) return installations.deleteInstallationUninstalledAt(query, eventTime);
  // A store of the developer's: a read, then a delete (a reinstall stored between the two is not seen).
  const current = installations.findInstallation ? await installations.findInstallation(query) : await installations.fetchInstallation(query).catch(() => undefined);
  if (current && predates(eventTime, current)) return { deleted: false, installedAt: installedAtOf(current)! };
  await installations.deleteInstallation?.(query);
  return { deleted: true };
}

/**
 * `tokens_revoked` naming user tokens only: the installing user's token (Bolt's context.userToken)
 * is dropped if it is one of them, so listeners stop getting a token Slack refuses. The bot token
 * stays. A store of the developer's without `dropRevokedUserToken` is left as it is.
 */
async function dropUserToken(envelope: EventBody, query: InstallationLookup, installations: WorkspaceInstallations, eventTime: number | undefined, logger: Logger): Promise<'user dropped' | 'kept' | 'stale'> {
  const named = envelope.event?.tokens?.oauth;
  const userIds = Array.isArray(named) ? named.filter((id): id is string => typeof id === 'string' && id !== '') : [];
  if (userIds.length === 0 || !installations.dropRevokedUserToken) return 'kept';
  const outcome = await installations.dropRevokedUserToken(query, userIds, eventTime);
  if (outcome.installedAt !== undefined) {
    logger.info({ ...ids(query), event: 'tokens_revoked', eventTime: new Date(eventTime! * 1000).toISOString(), installedAt: new Date(outcome.installedAt).toISOString() }, STALE);
    return 'stale';
  }
  if (!outcome.dropped) return 'kept';
  logger.info({ ...ids(query), event: 'tokens_revoked', userIds }, "Slack revoked the installing user's token (tokens_revoked): dropped from the installation, the bot token is kept");
  return 'user dropped';
}
