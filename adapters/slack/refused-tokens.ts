/**
 * A bot token Slack refused for good (`invalid_auth`, `token_revoked`, `account_inactive`: revoked
 * with no uninstall event, a deleted or suspended workspace) is remembered in the store for a
 * while, by a hash of the token (never the token), so the workspace's later messages fail before
 * the AI is asked (an answer nobody could be shown), dead-lettered with the same reason. A new token
 * (a reinstall, a refresh) is not the one remembered: it is used at once.
 */
import { createHash } from 'node:crypto';
import { PermanentError, type Store } from 'parley/adapter-kit';
import { refusalOf } from './stream-finish.js';

const REFUSALS = new Set(['invalid_auth', 'token_revoked', 'account_inactive']);
/** Short: a bot user deactivated by mistake and restored (`account_inactive`) answers again within this. */
export const REFUSAL_MEMORY_MS = 10 * 60_000;

const key = (token: string) => `parley:slack:refused:${createHash('sha256').update(token).digest('hex').slice(0, 32)}`;

export class RefusedTokens {
  constructor(private readonly store: () => Store) {}

  /** `error` as it was, once a refusal of `token` is noted (best effort: a store failure only costs a later AI call). */
  async noted(token: string | undefined, error: unknown): Promise<unknown> {
    const refusal = refusalOf(error);
    if (token && refusal && REFUSALS.has(refusal)) await this.store().set(key(token), refusal, REFUSAL_MEMORY_MS).catch(() => undefined);
    return error;
  }

  /**
   * Throws (before the AI is asked) when Slack refused this very token a moment ago and `renewed` (a rotating token's refresh,
   * which may have failed only for now) gives no new one. Best effort: a store failure only costs an AI call.
   */
  async check(token: string, renewed?: (refused: string) => Promise<string | undefined>): Promise<void> {
    const refusal = await this.store().get(key(token)).catch(() => undefined);
    if (refusal && !(renewed && (await renewed(token)) !== undefined)) throw new PermanentError(`Slack refused this workspace's bot token (${refusal}) a moment ago: no AI call for a reply that cannot be posted`, `slack_${refusal}`);
  }
}
