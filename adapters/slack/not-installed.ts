/**
 * Workspaces parley acknowledges but does not answer: the app is not installed there (uninstalled),
 * or its installation was sealed with a key SLACK_INSTALLATION_KEY no longer lists. Both are for
 * good until the workspace installs again, so each is logged once per workspace (warn, then debug):
 * Slack keeps sending, and retries.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { PermanentError } from 'parley/adapter-kit';
import { cacheKey, describe, ids, type InstallationLookup } from './workspace-lookup.js';

export class NotInstalledLog {
  private readonly warned = new LRUCache<string, true>({ max: 10_000 });
  /** Workspaces whose installation no key opens: the fingerprint of the key that sealed it, and whether that key is listed. */
  private readonly unreadable = new LRUCache<string, { sealedWith: string; listed: boolean }>({ max: 10_000 });

  constructor(
    private readonly logger: () => Logger,
    /** Installations live where a restart loses them: a cause the line names. */
    private readonly lostAtRestart?: () => boolean,
  ) {}

  /** The installation could be read (`sealedWith` undefined), or could not: no key opens it (`listed`: not even the one that sealed it). */
  read(query: InstallationLookup, unreadableSealedWith?: string, listed = false): void {
    if (unreadableSealedWith === undefined) this.unreadable.delete(cacheKey(query));
    else this.unreadable.set(cacheKey(query), { sealedWith: unreadableSealedWith, listed });
  }

  /**
   * A read of the installation failed: not found, or no key opens it (remembered, for the reason
   * replies give), is "not installed"; anything else is thrown on.
   */
  readFailed(query: InstallationLookup, error: unknown): undefined {
    const { code, sealedWith, keyListed } = error as { code?: unknown; sealedWith?: unknown; keyListed?: unknown };
    if (code === 'slack_installation_not_found') return undefined;
    if (code !== 'slack_installation_unreadable') throw error;
    this.read(query, typeof sealedWith === 'string' ? sealedWith : 'unknown', keyListed === true);
    return undefined;
  }

  forget(query: InstallationLookup): void {
    this.warned.delete(cacheKey(query));
    this.unreadable.delete(cacheKey(query));
  }

  /** What a reply there fails with: why nothing can be posted there, and the dead letter's reason. */
  error(query: InstallationLookup): PermanentError {
    const unreadable = this.unreadable.get(cacheKey(query));
    if (unreadable === undefined) return new PermanentError(`The Slack app is not installed in ${describe(query)} (any more): nothing can be posted there.`, 'slack_not_installed');
    return new PermanentError(`The Slack installation of ${describe(query)} ${whyUnreadable(unreadable)}.`, 'slack_installation_unreadable');
  }

  /** An event or interaction from there: acknowledged, not answered. */
  log(query: InstallationLookup): void {
    const key = cacheKey(query);
    const first = !this.warned.has(key);
    this.warned.set(key, true);
    const unreadable = this.unreadable.get(key);
    const line =
      unreadable !== undefined
        ? `a Slack event or interaction from a workspace whose installation ${whyUnreadable(unreadable)}: acknowledged, not answered`
        : `a Slack event or interaction from a workspace where the app is not installed (${this.lostAtRestart?.() ? 'uninstalled, or installed before a restart: installations are kept in memory, set REDIS_URL to keep them' : 'uninstalled?'}): acknowledged, not answered`;
    const fields = { ...ids(query), ...(unreadable !== undefined ? { sealedWithKey: unreadable.sealedWith } : {}) };
    if (first) this.logger().warn(fields, line);
    else this.logger().debug(fields, line);
  }
}

/** Why no key opens an installation, and what to do, from "…installation <this>". */
function whyUnreadable({ sealedWith, listed }: { sealedWith: string; listed: boolean }): string {
  return listed
    ? `was sealed with key ${sealedWith}, which SLACK_INSTALLATION_KEY lists, yet it does not open it: the record is damaged, or was copied from another workspace's entry; the workspace has to install the app again`
    : `was sealed with key ${sealedWith}, which SLACK_INSTALLATION_KEY no longer lists: the workspace has to install the app again (or the old key be listed again in SLACK_INSTALLATION_KEY)`;
}
