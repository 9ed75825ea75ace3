/**
 * Slack installations (one per workspace, or one per Enterprise Grid org for org-wide installs)
 * in parley's store — memory, Redis or DynamoDB — encrypted at rest (installation-crypto.ts).
 * Implements @slack/oauth's InstallationStore, so Bolt's authorize can use it too.
 *
 * Keys: `parley:slack:installation:<enterpriseId|->:<teamId|->`; an org-wide install is kept
 * under its enterprise id with team "-" and found when the query says `isEnterpriseInstall`; a
 * workspace installed before it joined a Grid org stays under "-" and its team (found by `located`).
 * No TTL: an installation lives until Slack says the app was uninstalled. A new one is stored with
 * the time it was installed (install-time.ts), so a late uninstall does not delete a reinstall.
 *
 * Nothing here logs a token: log lines carry the team and enterprise ids only.
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import type { Logger } from 'pino';
import type { Store } from 'parley/adapter-kit';
import { InstallationDecryptError, needsReencrypt, open, seal } from './installation-crypto.js';
import { installedAtOf, predates, stamped } from './install-time.js';
import { refreshedOver } from './token-rotation.js';

export const installationKeys = {
  /** Where one installation lives. */
  installation: (enterpriseId: string | undefined, teamId: string | undefined) => `parley:slack:installation:${enterpriseId || '-'}:${teamId || '-'}`,
};

/** Thrown by fetchInstallation when there is no installation for the query (Bolt's authorize expects a throw). */
export class InstallationNotFoundError extends Error {
  override name = 'InstallationNotFoundError';
  readonly code = 'slack_installation_not_found';
}

export interface ParleyInstallationStoreOptions {
  /** The store, or a function giving it (the adapter's context arrives only when it starts). */
  store: Store | (() => Store);
  /** SLACK_INSTALLATION_KEY's keys: the first encrypts, every one decrypts. */
  keys: readonly Buffer[];
  logger?: Logger | (() => Logger | undefined);
}

type AnyInstallation = Installation<'v1' | 'v2', boolean>;
type AnyQuery = InstallationQuery<boolean>;

/** A write holds an installation's lock for one get and one set; a writer waits at most this long for it. */
const WRITE_LOCK_MS = 5000;
const WRITE_WAIT_MS = 2000;

export class ParleyInstallationStore implements InstallationStore {
  private readonly store: () => Store;
  private readonly logger: () => Logger | undefined;
  private readonly keys: readonly Buffer[];

  constructor(options: ParleyInstallationStoreOptions) {
    if (options.keys.length === 0) throw new Error('ParleyInstallationStore needs at least one key (SLACK_INSTALLATION_KEY)');
    const { store, logger } = options;
    this.store = typeof store === 'function' ? store : () => store;
    this.logger = typeof logger === 'function' ? logger : () => logger;
    this.keys = options.keys;
  }

  /** The storage key of an installation (org-wide installs under the enterprise alone). */
  static keyOf(installation: AnyInstallation): string {
    if (installation.isEnterpriseInstall && installation.enterprise?.id) return installationKeys.installation(installation.enterprise.id, undefined);
    const teamId = installation.team?.id;
    if (!teamId) throw new Error('a Slack installation without a team id, and not an org-wide install');
    return installationKeys.installation(installation.enterprise?.id, teamId);
  }

  /** The storage key a query looks up. */
  static keyFor(query: AnyQuery): string {
    if (query.isEnterpriseInstall) {
      if (!query.enterpriseId) throw new Error('an org-wide installation query without an enterprise id');
      return installationKeys.installation(query.enterpriseId, undefined);
    }
    if (!query.teamId) throw new Error('a Slack installation query without a team id');
    return installationKeys.installation(query.enterpriseId, query.teamId);
  }

  /** A new installation (a reinstall replaces the old one): stored with the time it was installed, unless it has one. */
  async storeInstallation<AuthVersion extends 'v1' | 'v2'>(installation: Installation<AuthVersion, boolean>): Promise<void> {
    const key = ParleyInstallationStore.keyOf(installation);
    await this.exclusive(key, () => this.store().set(key, seal(JSON.stringify(stamped(installation)), this.keys, key)));
    // A workspace in an org installed again: its record from before it joined the org is replaced (located).
    const before = preGridKey(installation.isEnterpriseInstall ? undefined : { teamId: installation.team?.id, enterpriseId: installation.enterprise?.id });
    if (before) await this.store().delete(before);
    this.logger()?.info(ids(installation), 'Slack installation stored');
  }

  /**
   * Store a refreshed installation only while the store still holds the one it replaces (whose bot
   * refresh token was `spentRefreshToken`), checked and written under the installation's write lock:
   * an uninstall or a reinstall written during the refresh is newer, and wins. The store's user part
   * is kept unless the refresh spent its user refresh token (`spentUserRefreshToken`): a user token
   * dropped during the refresh stays dropped (token-rotation.ts refreshedOver). What was stored, or false.
   */
  async replaceInstallation(installation: AnyInstallation, spentRefreshToken: string | undefined, spentUserRefreshToken?: string): Promise<AnyInstallation | false> {
    const key = ParleyInstallationStore.keyOf(installation);
    let stored: AnyInstallation | undefined;
    // Only under the lock: a check and a write without it could undo an uninstall written between them.
    const replace = async () => {
      const sealed = await this.store().get(key);
      // A record no key opens is not the one refreshed (that one was read): the refresh gives way.
      const current = sealed === undefined ? undefined : openedOrNothing(sealed, this.keys, key);
      const merged = refreshedOver(current, installation, { bot: spentRefreshToken, user: spentUserRefreshToken });
      if (!merged) return;
      await this.store().set(key, seal(JSON.stringify(merged), this.keys, key));
      stored = merged;
    };
    await this.exclusive(key, replace, { lockRequired: true });
    if (stored) this.logger()?.info(ids(installation), 'Slack installation stored');
    return stored ?? false;
  }

  /** The installation for a query; throws InstallationNotFoundError when there is none. */
  async fetchInstallation(query: AnyQuery): Promise<AnyInstallation> {
    const found = await this.findInstallation(query);
    if (!found) throw new InstallationNotFoundError(`no Slack installation for ${describe(query)}`);
    return found;
  }

  /** The installation for a query, or undefined. A record sealed with an older key is sealed again with the first. */
  async findInstallation(query: AnyQuery): Promise<AnyInstallation | undefined> {
    const { key, sealed } = await this.located(query);
    if (sealed === undefined) return undefined;
    const opened = open(sealed, this.keys, key);
    const installation = JSON.parse(opened.plaintext) as AnyInstallation;
    if (opened.needsReencrypt) await this.reseal(key, sealed, opened.plaintext, installation);
    return installation;
  }

  async deleteInstallation(query: AnyQuery): Promise<void> {
    const { key } = await this.located(query);
    await this.exclusive(key, () => this.store().delete(key));
    await this.deletePreGrid(query, key);
    this.logger()?.info({ enterpriseId: query.enterpriseId, teamId: query.teamId, isEnterpriseInstall: query.isEnterpriseInstall }, 'Slack installation deleted');
  }

  /**
   * An uninstall Slack timed at `eventTime` (event_time, epoch seconds): the installation is deleted,
   * unless it was installed since (a reinstall the late event must not undo), checked and deleted under
   * the write lock. A record no key opens is deleted (it answers nothing). `installedAt` when kept.
   */
  async deleteInstallationUninstalledAt(query: AnyQuery, eventTime: number): Promise<{ deleted: true } | { deleted: false; installedAt: number }> {
    const { key } = await this.located(query);
    let kept: number | undefined;
    const uninstall = async () => {
      const sealed = await this.store().get(key);
      const current = sealed === undefined ? undefined : openedOrNothing(sealed, this.keys, key);
      if (current && predates(eventTime, current)) kept = installedAtOf(current);
      else if (sealed !== undefined) await this.store().delete(key);
    };
    // Only under the lock: a check and a delete without it could delete a reinstall written between them.
    await this.exclusive(key, uninstall, { lockRequired: true });
    if (kept !== undefined) return { deleted: false, installedAt: kept };
    await this.deletePreGrid(query, key);
    this.logger()?.info({ enterpriseId: query.enterpriseId, teamId: query.teamId, isEnterpriseInstall: query.isEnterpriseInstall }, 'Slack installation deleted');
    return { deleted: true };
  }

  /**
   * `tokens_revoked` naming user tokens: the installing user's token (Bolt's context.userToken) is
   * dropped when its user is one of `userIds`; the bot's stays. Under the write lock, and not when the
   * installation was installed since `eventTime` (as an uninstall: install-time.ts). `installedAt` when kept.
   */
  async dropRevokedUserToken(query: AnyQuery, userIds: readonly string[], eventTime: number | undefined): Promise<{ dropped: boolean; installedAt?: number }> {
    const { key } = await this.located(query);
    let outcome: { dropped: boolean; installedAt?: number } = { dropped: false };
    const drop = async () => {
      const sealed = await this.store().get(key);
      const current = sealed === undefined ? undefined : openedOrNothing(sealed, this.keys, key);
      const user = current?.user as AnyInstallation['user'] | undefined;
      if (!current || !user?.token || !userIds.includes(user.id)) return;
      if (eventTime !== undefined && predates(eventTime, current)) return void (outcome = { dropped: false, installedAt: installedAtOf(current)! });
      const kept: AnyInstallation = { ...current, user: { id: user.id, scopes: user.scopes, token: undefined } };
      await this.store().set(key, seal(JSON.stringify(kept), this.keys, key));
      outcome = { dropped: true };
    };
    // Only under the lock: a token refresh stored between a read and this write would bring the token back.
    await this.exclusive(key, drop, { lockRequired: true });
    return outcome;
  }

  /** Whether a stored record is sealed with an older key (for tests and `parley check`-like tools). */
  async isStale(query: AnyQuery): Promise<boolean> {
    const { sealed } = await this.located(query);
    return sealed !== undefined && needsReencrypt(sealed, this.keys);
  }

  /** A record from before the org, left beside `key` (by an older parley), must not answer after an uninstall. */
  private async deletePreGrid(query: AnyQuery, key: string): Promise<void> {
    const before = query.isEnterpriseInstall ? undefined : preGridKey(query);
    if (before && before !== key) await this.store().delete(before);
  }

  /**
   * Where the installation a query names is kept, and its sealed record. A workspace installed before it
   * joined an Enterprise Grid org (Slack migrates it with its team id and its installation) was stored
   * without the org, and its events name the org since: found under the key without it.
   */
  private async located(query: AnyQuery): Promise<{ key: string; sealed: string | undefined }> {
    const key = ParleyInstallationStore.keyFor(query);
    const sealed = await this.store().get(key);
    const before = sealed === undefined && !query.isEnterpriseInstall ? preGridKey(query) : undefined;
    const earlier = before === undefined ? undefined : await this.store().get(before);
    return earlier === undefined ? { key, sealed } : { key: before!, sealed: earlier };
  }

  /**
   * `parley slack reseal`: the record under a storage key sealed with the first key if it is not
   * yet. Throws InstallationDecryptError when no key opens it; 'busy' when it is being written.
   */
  async resealStored(key: string): Promise<'resealed' | 'current' | 'missing' | 'busy'> {
    const sealed = await this.store().get(key);
    if (sealed === undefined) return 'missing';
    const opened = open(sealed, this.keys, key);
    if (!opened.needsReencrypt) return 'current';
    return (await this.reseal(key, sealed, opened.plaintext, JSON.parse(opened.plaintext) as AnyInstallation)) ? 'resealed' : 'busy';
  }

  /**
   * A write (store, delete) waits for a re-encryption in progress; after WRITE_WAIT_MS it goes ahead
   * anyway, unless `lockRequired` (then it throws, to be tried again later).
   */
  private async exclusive(key: string, write: () => Promise<void>, { lockRequired = false } = {}): Promise<void> {
    const store = this.store();
    const giveUpAt = Date.now() + WRITE_WAIT_MS;
    let lock = await store.acquireLock(lockKey(key), WRITE_LOCK_MS);
    while (!lock && Date.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      lock = await store.acquireLock(lockKey(key), WRITE_LOCK_MS);
    }
    if (!lock && lockRequired) throw new Error('the Slack installation is being written by another process; try again');
    try {
      await write();
    } finally {
      if (lock) await store.releaseLock(lockKey(key), lock).catch(() => undefined);
    }
  }

  /**
   * Seal a record read with an older key again, only if it is still the record that was read: a
   * refresh or an uninstall written meanwhile must not be undone by an older copy.
   */
  private async reseal(key: string, read: string, plaintext: string, installation: AnyInstallation): Promise<boolean> {
    const store = this.store();
    try {
      const lock = await store.acquireLock(lockKey(key), WRITE_LOCK_MS);
      if (!lock) return false; // being written right now: a later read seals it again
      try {
        if ((await store.get(key)) !== read) return false;
        await store.set(key, seal(plaintext, this.keys, key));
      } finally {
        await store.releaseLock(lockKey(key), lock).catch(() => undefined);
      }
      this.logger()?.info(ids(installation), 'Slack installation re-encrypted with the first SLACK_INSTALLATION_KEY');
      return true;
    } catch (error) {
      // The read succeeded; the next read tries again.
      this.logger()?.warn({ ...ids(installation), err: { message: (error as Error).message } }, 'could not re-encrypt a Slack installation');
      return false;
    }
  }
}

function openedOrNothing(sealed: string, keys: readonly Buffer[], key: string): AnyInstallation | undefined {
  try {
    return JSON.parse(open(sealed, keys, key).plaintext) as AnyInstallation;
  } catch (error) {
    if (error instanceof InstallationDecryptError) return undefined;
    throw error;
  }
}

/** A Grid workspace's key from before its org: none outside an org (that key is its own). */
function preGridKey(where: { teamId?: string; enterpriseId?: string } | undefined): string | undefined {
  return where?.teamId && where.enterpriseId ? installationKeys.installation(undefined, where.teamId) : undefined;
}

/** The lock that keeps a re-encryption from overwriting a newer write of the same installation. */
function lockKey(key: string): string {
  return `${key}:write-lock`;
}

function ids(installation: AnyInstallation): Record<string, unknown> {
  return { teamId: installation.team?.id, enterpriseId: installation.enterprise?.id, isEnterpriseInstall: Boolean(installation.isEnterpriseInstall) };
}

function describe(query: AnyQuery): string {
  return query.isEnterpriseInstall ? `enterprise ${query.enterpriseId} (org-wide)` : `team ${query.teamId}${query.enterpriseId ? ` in enterprise ${query.enterpriseId}` : ''}`;
}
