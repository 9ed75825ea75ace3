/**
 * Key-value, list and lock primitives. The memory store is the default; a Redis store
 * implements the same interface so several processes can share state.
 */
import type { Logger } from 'pino';

export interface Store {
  /**
   * True when what it holds is lost when the process ends (the memory store): the bot warns when
   * an adapter keeps there what a restart must not lose (`Adapter.lastingState`).
   */
  readonly volatile?: boolean;
  get(key: string): Promise<string | undefined>;
  /** Set a value; `ttlMs` makes it expire. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /**
   * Set only if the key does not exist; true when this call set it (an atomic claim). A call that
   * throws should leave no claim of its own behind where the store can tell (DynamoStore takes back
   * a claim whose answer came too late): the caller treats the key as not claimed.
   */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean>;
  /**
   * `ackDeadline: false`: the call is not on an ack path (a worker's clean-up), so it may take the
   * client's own retries; DynamoStore otherwise ends the whole call within 0.8 s.
   */
  delete(key: string, options?: { ackDeadline?: boolean }): Promise<void>;
  /**
   * Delete the key only while it holds `value` (true when it did), in one command: sent right after a
   * `setIfAbsent` that timed out, it runs after that claim however late Redis carries it out, and
   * takes it back only if the claim was this caller's; a claim given back late (retried) takes no
   * later claim with it. Absent, a claim is given back with `delete`, and a failed `setIfAbsent` is
   * not taken back. `ackDeadline` as for `delete`.
   */
  deleteIf?(key: string, value: string, options?: { ackDeadline?: boolean }): Promise<boolean>;
  /** Append to a list, keep only the newest `maxLength` items, refresh its TTL. */
  listPush(key: string, values: string[], options?: { maxLength?: number; ttlMs?: number }): Promise<void>;
  /** Items `start..stop` inclusive; negative indexes count from the end (Redis LRANGE semantics). */
  listRange(key: string, start: number, stop: number): Promise<string[]>;
  /** Take a lock; returns the owner's token, or undefined when someone else holds it. */
  acquireLock(key: string, ttlMs: number): Promise<string | undefined>;
  /** Extend a lock we own (the heartbeat); false when it was lost. */
  extendLock(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Release a lock only if `token` still owns it. */
  releaseLock(key: string, token: string): Promise<boolean>;
  /**
   * Resolves once what the store goes on with in the background is done or given up (DynamoStore: a
   * claim that could not be taken back within the ack deadline): a serverless function awaits it,
   * through `bot.afterAnswers()`, before it is frozen.
   */
  settled?(): Promise<void>;
  /**
   * The bot's logger, handed over by createBot, for what the store says in the background (a
   * DynamoStore's take-back that gave up); a logger passed to the store itself is kept instead.
   */
  useLogger?(logger: Pick<Logger, 'warn'>): void;
  /** Throws when the store cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
