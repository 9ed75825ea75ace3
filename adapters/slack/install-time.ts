/**
 * When an installation was made, recorded on it (`installedAt`, epoch milliseconds), so that an
 * uninstall event Slack sends late (a retry, or out of order) after the workspace installed the app
 * again does not delete the new installation. Records stored before parley recorded it have none:
 * an uninstall deletes them as it always did.
 */
import type { Installation } from '@slack/oauth';

type AnyInstallation = Installation<'v1' | 'v2', boolean>;

/** An installation with the time parley stored it as a new install (a token refresh keeps it). */
export type StampedInstallation<I extends AnyInstallation = AnyInstallation> = I & { installedAt?: number };

/** The installation with `installedAt` set to now, unless it has one (a refresh Bolt stores back keeps the first). */
export function stamped<I extends AnyInstallation>(installation: I, now = Date.now()): StampedInstallation<I> {
  return installedAtOf(installation) !== undefined ? installation : { ...installation, installedAt: now };
}

/** When the installation was stored as a new install; undefined for an older record (or a store's own field of another shape). */
export function installedAtOf(installation: AnyInstallation): number | undefined {
  const at = (installation as StampedInstallation).installedAt;
  return typeof at === 'number' && Number.isFinite(at) && at > 0 ? at : undefined;
}

/**
 * Whether an uninstall Slack timed at `eventTime` (the envelope's event_time, whole epoch seconds)
 * is older than the installation, so is about an installation since replaced: it must not delete it.
 *
 * The same second counts as older. parley records the time after Slack's consent screen, the redirect
 * and the code exchange, so an uninstall in that second came, almost surely, before the install was
 * granted; a real uninstall of this installation needs someone to open the app's settings after the
 * success page, which takes longer. Had it been real, its tokens are revoked: the next reply there
 * fails (invalid_auth) and the next uninstall or install replaces the record.
 */
export function predates(eventTime: number, installation: AnyInstallation): boolean {
  const installedAt = installedAtOf(installation);
  return installedAt !== undefined && eventTime <= Math.floor(installedAt / 1000);
}
