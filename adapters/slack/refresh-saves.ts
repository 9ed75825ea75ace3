/**
 * Storing a refreshed installation (token rotation), only over the installation it replaced: an
 * uninstall or a reinstall written meanwhile is newer, and wins. Slack's refresh tokens are single-use,
 * so a refresh the store cannot take now is kept in this process (and used) and offered again every
 * SAVE_RETRY_MS until it is stored. What is stored keeps the store's user part unless the refresh
 * spent its user refresh token (refreshedOver), so a user token tokens_revoked dropped meanwhile stays dropped.
 */
import type { Installation } from '@slack/oauth';
import type { Logger } from 'pino';
import { refreshedOver, withoutUserToken, type SpentTokens } from './token-rotation.js';
import { ids, type InstallationLookup, type WorkspaceInstallations } from './workspace-lookup.js';

type AnyInstallation = Installation<'v1' | 'v2', boolean>;

/** How often a refreshed installation the store could not take is offered to it again. */
const SAVE_RETRY_MS = 1000;

/** A refresh not stored yet; `installation` may lose its user token while it waits (dropUserToken). */
interface Pending {
  installation: AnyInstallation;
  spent: SpentTokens;
}

export interface RefreshSavesOptions {
  installations: WorkspaceInstallations;
  logger(): Logger;
  /** The installation in the store (undefined: none). */
  load(query: InstallationLookup): Promise<AnyInstallation | undefined>;
  /** A retried save landed (what the store holds now; undefined: superseded): this process's copy follows. */
  settled(key: string, installation: AnyInstallation | undefined): void;
}

export class RefreshSaves {
  private readonly unsaved = new Map<string, Pending>();

  constructor(private readonly options: RefreshSavesOptions) {}

  /** The refresh this process could not store yet: newer than the store's (its refresh token is the live one). */
  pending(key: string): AnyInstallation | undefined {
    return this.unsaved.get(key)?.installation;
  }

  forget(key: string): void {
    this.unsaved.delete(key);
  }

  /** tokens_revoked dropped the installing user's token from the store: the pending copy hands it out no more. */
  dropUserToken(key: string): void {
    const pending = this.unsaved.get(key);
    if (pending) pending.installation = withoutUserToken(pending.installation);
  }

  /**
   * Store a refresh that spent `spent` of the store's installation. What the store holds after it (the
   * refresh, with the store's user part unless it spent that; undefined when gone), or 'pending' when
   * the store could not take it now (kept here and offered again).
   */
  async save(key: string, query: InstallationLookup, installation: AnyInstallation, spent: SpentTokens): Promise<AnyInstallation | undefined | 'pending'> {
    return this.attempt(key, query, { installation, spent });
  }

  private async attempt(key: string, query: InstallationLookup, pending: Pending): Promise<AnyInstallation | undefined | 'pending'> {
    let stored: AnyInstallation | boolean;
    try {
      stored = await this.write(query, pending);
    } catch (error) {
      if (this.unsaved.get(key) !== pending) {
        const first = !this.unsaved.has(key);
        this.unsaved.set(key, pending);
        if (first) this.options.logger().warn({ ...ids(query), reason: String((error as Error)?.message) }, 'could not store a refreshed Slack bot token; keeping it in this process and trying again');
      }
      setTimeout(() => {
        if (this.unsaved.get(key) !== pending) return; // stored, replaced by a newer refresh, or forgotten
        const settled = (installation: AnyInstallation | undefined) => this.options.settled(key, installation);
        void this.attempt(key, query, pending).then((now) => now !== 'pending' && settled(now), () => settled(undefined));
      }, SAVE_RETRY_MS).unref();
      return 'pending';
    }
    if (this.unsaved.get(key) === pending) this.unsaved.delete(key);
    // false: an uninstall or a reinstall came meanwhile; true: a store of the developer's stored it. Either way, the store's.
    return typeof stored === 'object' ? stored : this.options.load(query);
  }

  /** The record stored; false when superseded; true when a store of the developer's stored it, not saying what. */
  private async write(query: InstallationLookup, { installation, spent }: Pending): Promise<AnyInstallation | boolean> {
    const { installations, load } = this.options;
    if (installations.replaceInstallation) return installations.replaceInstallation(installation, spent.bot, spent.user);
    // A store of the developer's without it: a read, then a write (one stored between the two is not seen).
    const merged = refreshedOver(await load(query), installation, spent);
    if (merged) await installations.storeInstallation(merged);
    return merged ?? false;
  }
}
