/**
 * Many workspaces (OAuth on): each event is answered with its own installation's bot token.
 *
 * - Bolt's `authorize` and the reply path (SlackSender) both ask here; the installation is read
 *   from the InstallationStore and kept in memory for a short while (CACHE_TTL_MS), so the
 *   acknowledgement does not wait for the store on every event.
 * - Token rotation: a bot token (or the installing user's, Bolt's context.userToken) that expires
 *   within REFRESH_EARLY_MS is exchanged for a new one with `oauth.v2.access` (grant_type=refresh_token,
 *   through SLACK_API_URL) and stored back. Slack revokes a refresh token once used, so one refresh
 *   runs at a time per installation: one promise per process, and a lock in parley's store across
 *   processes (the others wait for the new token).
 *   A token Slack refuses (token_expired, invalid_auth, token_revoked) gives way to the store's when
 *   that is another (a reinstall elsewhere), else is refreshed the same way (renew). A refresh token
 *   Slack refused is not offered again by this process (refresh-failures.ts).
 * - Uninstall: `app_uninstalled`, and `tokens_revoked` naming bot tokens, delete the installation
 *   and its cache entry, unless it was installed again after the event (uninstall.ts); naming the
 *   installing user's token only, that token is dropped from both, and from a refresh not stored
 *   yet or under way (what a refresh stores keeps the store's user part: refresh-saves.ts). A later event
 *   from that workspace is acknowledged but not answered, and logged once (warn, then debug); so is
 *   one whose installation no SLACK_INSTALLATION_KEY opens.
 *
 * No token, refresh token or client secret is ever put in a log line: lines carry team and
 * enterprise ids only.
 */
import type { AuthorizeResult, AuthorizeSourceData } from '@slack/bolt';
import type { Installation } from '@slack/oauth';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Store } from 'parley/adapter-kit';
import type { SlackDetails } from './events.js';
import { NotInstalledLog } from './not-installed.js';
import { RefreshFailures } from './refresh-failures.js';
import { RefreshSaves } from './refresh-saves.js';
import { botExpiresWithin, dueForRefresh, expiresWithin, logRotation, rotated, spentBy, userExpiresWithin, type Rotation, type RotationCredentials } from './token-rotation.js';
import { isUninstallEvent, uninstall } from './uninstall.js';
import { cacheKey, ids, lookupFor, lookupOfEvent, type EventBody, type InstallationLookup, type WorkspaceInstallations } from './workspace-lookup.js';

type AnyInstallation = Installation<'v1' | 'v2', boolean>;
export type { InstallationLookup, WorkspaceInstallations } from './workspace-lookup.js';

/** Set on Bolt's context when the event's workspace has no installation: parley's middleware stops there. */
export const NOT_INSTALLED = 'parleyNotInstalled';

const CACHE_TTL_MS = 30_000;
/** Refresh this long before the token expires (Slack's rotating tokens live 12 hours). */
const REFRESH_EARLY_MS = 5 * 60_000;
/** How long another process may take to refresh before this one gives up waiting for it. */
const REFRESH_WAIT_MS = 10_000;
/** Longer than a refresh can take (the Web API's 15 s timeout, the store's read and write): a lapsed lock would let a second process spend the same refresh token. */
const REFRESH_LOCK_MS = 60_000;

/** The client (for oauth.v2.access) and the app's credentials refresh rotating tokens. */
export interface WorkspaceTokensOptions extends RotationCredentials {
  installations: WorkspaceInstallations;
  /** For the refresh lock shared by every process. */
  store(): Store;
  logger(): Logger;
  /** Installations live where a restart loses them (the bot's store in memory): a cause the not-installed line names. */
  lostAtRestart?(): boolean;
  cacheTtlMs?: number;
  refreshEarlyMs?: number;
  /** How long to wait for another process's refresh (REFRESH_WAIT_MS). */
  refreshWaitMs?: number;
}

export class WorkspaceTokens {
  private readonly cache: LRUCache<string, AnyInstallation>;
  private readonly refreshing = new Map<string, Promise<AnyInstallation | undefined>>();
  /** Stores refreshes; keeps (and offers again) one the store could not take yet: Slack's refresh tokens are single-use. */
  private readonly saves: RefreshSaves;
  /** What a failed refresh leaves; the bot refresh tokens Slack refused, not offered again. */
  private readonly failures: RefreshFailures;
  private readonly notInstalled: NotInstalledLog;
  private readonly refreshEarlyMs: number;
  private readonly refreshWaitMs: number;
  /** Refresh locks held past a whole wait (their process may have died): a working token is used at once, not after a wait per reply. */
  private readonly waitedOut = new LRUCache<string, true>({ max: 10_000, ttl: REFRESH_LOCK_MS });

  constructor(private readonly options: WorkspaceTokensOptions) {
    this.cache = new LRUCache({ max: 10_000, ttl: options.cacheTtlMs ?? CACHE_TTL_MS });
    this.refreshEarlyMs = options.refreshEarlyMs ?? REFRESH_EARLY_MS;
    this.refreshWaitMs = options.refreshWaitMs ?? REFRESH_WAIT_MS;
    this.notInstalled = new NotInstalledLog(options.logger, options.lostAtRestart);
    this.failures = new RefreshFailures(options.logger);
    const settled = (key: string, installation: AnyInstallation | undefined) => void this.remember(key, installation);
    this.saves = new RefreshSaves({ installations: options.installations, logger: options.logger, load: (query) => this.load(query), settled });
  }

  /** Bolt's `authorize` (a click's 3 s acknowledgement waits on it): the installation's bot token and user token, refreshed only once expired; a workspace without one is marked NOT_INSTALLED. */
  async authorize(source: AuthorizeSourceData<boolean>): Promise<AuthorizeResult> {
    const query = { teamId: source.teamId, enterpriseId: source.enterpriseId, isEnterpriseInstall: source.isEnterpriseInstall } as InstallationLookup;
    const current = await this.installed(query);
    const installation = current && expiresWithin(current, 0) ? await this.find(query) : current;
    if (!installation?.bot) {
      this.notInstalled.log(query);
      return { [NOT_INSTALLED]: true };
    }
    const { bot, user, team, enterprise } = installation;
    const userToken = user?.token ? { userToken: user.token } : {};
    return { botToken: bot.token, botId: bot.id, botUserId: bot.userId, ...userToken, teamId: team?.id ?? source.teamId, enterpriseId: enterprise?.id ?? source.enterpriseId };
  }

  /** The bot token to reply in this conversation with; a workspace that uninstalled the app fails for good. */
  async tokenFor(details: SlackDetails): Promise<string> {
    const query = lookupFor(details);
    const token = (await this.find(query))?.bot?.token;
    if (token) return token;
    throw this.notInstalled.error(query);
  }

  /** Before a job asks the AI: the installation in the store, which another process's uninstall may have deleted since this one cached it. */
  async stillInstalled(details: SlackDetails): Promise<void> {
    const query = lookupFor(details);
    const stored = (await this.load(query))?.bot?.token;
    // Gone, or installed again by another process (the old token revoked): the cached copy gives way.
    if (this.cache.get(cacheKey(query))?.bot?.token !== stored) this.cache.delete(cacheKey(query));
    if (!stored) throw this.notInstalled.error(query);
  }

  /**
   * Before an Events API delivery goes to Bolt: an uninstall is carried out (then still handed to
   * Bolt for the developer's listeners; one older than the installation is not: uninstall.ts); any other
   * event is taken only from a workspace with an installation. A store failure throws, so the
   * delivery is refused and Slack tries again.
   */
  async admit(body: Record<string, unknown>): Promise<boolean> {
    const envelope = body as EventBody;
    if (envelope.type !== 'event_callback') return true;
    const query = lookupOfEvent(envelope);
    if (!query) return true; // no workspace to tell: Bolt's authorize decides
    if (isUninstallEvent(envelope)) {
      const outcome = await uninstall(envelope, query, this.options.installations, this.options.logger());
      if (outcome === 'deleted') this.forget(query);
      if (outcome === 'user dropped') this.userDropped(cacheKey(query));
      return outcome !== 'stale';
    }
    if ((await this.installed(query))?.bot) return true;
    this.notInstalled.log(query);
    return false;
  }

  /**
   * The installing user's token was revoked and dropped from the store: this process's cached copy,
   * and a refresh not stored yet (whose save keeps the store's user part), still hold it. A refresh
   * under way is dropped from too once it ends (it read the installation before the drop).
   */
  private userDropped(key: string): void {
    const drop = () => {
      this.cache.delete(key);
      this.saves.dropUserToken(key);
    };
    drop();
    void this.refreshing.get(key)?.then(drop, drop);
  }

  /** The bot user of the event's installation (from the cache while fresh): what the event's mentions name. */
  async botUserIdOf(body: object): Promise<string | undefined> {
    const query = lookupOfEvent(body as EventBody);
    return query ? (await this.installed(query))?.bot?.userId : undefined;
  }

  /**
   * The installation as it is, never refreshed: what an acknowledgement needs. A token about to
   * expire is refreshed when a reply asks for it, not while Slack waits (that can take seconds).
   */
  private async installed(query: InstallationLookup): Promise<AnyInstallation | undefined> {
    const key = cacheKey(query);
    const known = this.cache.get(key) ?? this.saves.pending(key);
    if (known) return known;
    const installation = await this.load(query);
    if (installation && !expiresWithin(installation, this.refreshEarlyMs)) this.cache.set(key, installation);
    return installation;
  }

  /** The installation for a query (from the cache while fresh), its bot token refreshed when it is about to expire. */
  async find(query: InstallationLookup): Promise<AnyInstallation | undefined> {
    const key = cacheKey(query);
    const cached = this.cache.get(key) ?? this.saves.pending(key);
    const installation = cached ?? (await this.load(query));
    if (!installation) return undefined;
    if (!expiresWithin(installation, this.refreshEarlyMs)) {
      if (!cached) this.cache.set(key, installation);
      return installation;
    }
    // Its refresh token refused already: the token while it lasts, no refresh per use (a due user token is refreshed).
    const refusedBefore = this.failures.refusedBefore(key, installation, query);
    return refusedBefore && !userExpiresWithin(refusedBefore, this.refreshEarlyMs) ? refusedBefore : this.refreshOnce(key, query);
  }

  /**
   * Slack refused `stale` (token_expired, invalid_auth, token_revoked): the store's token when it is another (a reinstall
   * in another process), else a rotating token is refreshed now, as one with the scheduled refreshes (one per process,
   * the store's lock across processes). The new token; undefined when there is none (no refresh token, the refresh failed).
   */
  async renew(details: SlackDetails, stale: string): Promise<string | undefined> {
    const query = lookupFor(details);
    const key = cacheKey(query);
    const known = this.cache.get(key) ?? this.saves.pending(key);
    if (known?.bot && known.bot.token !== stale) return known.bot.token; // renewed already
    // An unsaved refresh is newer than the store's copy; else the store may hold a reinstall's token.
    const stored = this.saves.pending(key) ? known : await this.load(query);
    if (stored?.bot && stored.bot.token !== stale) {
      this.cache.delete(key);
      return (await this.find(query).catch(() => undefined))?.bot?.token;
    }
    if (!stored?.bot?.refreshToken) return undefined; // not a rotating token: nothing to renew
    const token = (await this.refreshOnce(key, query, stale).catch(() => undefined))?.bot?.token;
    return token !== stale ? token : undefined;
  }

  /** This process's refresh of the installation: the one under way, or a new one. */
  private refreshOnce(key: string, query: InstallationLookup, stale?: string): Promise<AnyInstallation | undefined> {
    let pending = this.refreshing.get(key);
    if (!pending) {
      pending = this.refresh(key, query, stale).finally(() => this.refreshing.delete(key));
      this.refreshing.set(key, pending);
    }
    return pending;
  }

  /** Drops what this process holds of an installation: after a reinstall, the next call reads the new one. */
  forget(query: InstallationLookup): void {
    const key = cacheKey(query);
    this.cache.delete(key);
    this.saves.forget(key);
    this.notInstalled.forget(query);
  }

  /**
   * From the store, not the cache; undefined when there is no installation, or when no key opens
   * it (sealed with a key since dropped from SLACK_INSTALLATION_KEY): as good as not installed.
   */
  private async load(query: InstallationLookup): Promise<AnyInstallation | undefined> {
    const { installations } = this.options;
    try {
      const found = installations.findInstallation ? await installations.findInstallation(query) : ((await installations.fetchInstallation(query)) ?? undefined);
      this.notInstalled.read(query);
      return found;
    } catch (error) {
      return this.notInstalled.readFailed(query, error);
    }
  }

  /** One refresh at a time: this process's promise (refreshOnce), and the store's lock across processes. */
  private async refresh(key: string, query: InstallationLookup, stale?: string): Promise<AnyInstallation | undefined> {
    const lockKey = `parley:slack:token-refresh:${key}`;
    const store = this.options.store();
    const deadline = Date.now() + this.refreshWaitMs;
    for (;;) {
      const lock = await store.acquireLock(lockKey, REFRESH_LOCK_MS);
      if (lock) {
        this.waitedOut.delete(key);
        try {
          return await this.refreshHoldingLock(key, query, stale);
        } finally {
          await store.releaseLock(lockKey, lock).catch(() => undefined);
        }
      }
      // Another process is refreshing: wait for its token to reach the store.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const current = await this.load(query);
      if (!current || !dueForRefresh(current, this.refreshEarlyMs, stale)) return this.remember(key, current);
      const refused = current.bot?.token === stale;
      if (!refused && this.waitedOut.has(key) && !botExpiresWithin(current, 0)) return current;
      if (Date.now() > deadline) {
        this.waitedOut.set(key, true);
        return this.remember(key, this.failures.stillUsable(key, current, query, new Error('another process is refreshing the token'), refused));
      }
    }
  }

  private async refreshHoldingLock(key: string, query: InstallationLookup, stale: string | undefined): Promise<AnyInstallation | undefined> {
    // The store, not what this process had: another process may have refreshed already. A refresh
    // this process could not store yet is newer than the store's (its refresh token is the live one).
    const stored = await this.load(query);
    const current = this.saves.pending(key) ?? stored;
    if (!current || !dueForRefresh(current, this.refreshEarlyMs, stale)) return this.remember(key, current);
    const botRefused = this.failures.refusedBefore(key, current, query) !== undefined;
    if (botRefused && !userExpiresWithin(current, this.refreshEarlyMs)) return this.remember(key, current);
    let rotation: Rotation;
    try {
      rotation = await rotated(current, this.options, this.refreshEarlyMs, stale, botRefused);
    } catch (error) {
      return this.remember(key, this.failures.stillUsable(key, current, query, error, current.bot?.token === stale));
    }
    logRotation(this.options.logger(), ids(query), current, rotation);
    const updated = rotation.installation;
    if (updated === current) return this.remember(key, current); // only a user token, which could not be refreshed yet
    // What the store holds is what the save may replace (not the unsaved refresh this one replaced).
    // What it stored (the store's user part kept unless this refresh spent it), not this copy: a user token dropped meanwhile stays dropped.
    const saved = await this.saves.save(key, query, updated, spentBy(updated, stored));
    return this.remember(key, saved === 'pending' ? updated : saved);
  }

  private remember(key: string, installation: AnyInstallation | undefined): AnyInstallation | undefined {
    if (installation && !expiresWithin(installation, this.refreshEarlyMs)) this.cache.set(key, installation);
    else this.cache.delete(key);
    return installation;
  }
}
