/**
 * Giving back a delivery's claim when its message was not taken (claimDelivery). Should the store
 * refuse that too (on AWS: SQS failing while DynamoDB throttles), the claim would turn the
 * platform's redelivery away as a duplicate of a message that was never queued. So this process
 * keeps the claims it owes (per store, at most MAX_OWED) and goes on giving them back: while the
 * webhook may still wait (its ack budget), then in the background for KEEP_TRYING_MS; a redelivery
 * that reaches this process while its claim is owed gives it back itself and claims afresh. Only
 * failures pay for this: an ack that queued its message does nothing more.
 */
import type { Logger } from 'pino';
import type { Adapter } from './adapter.js';
import { ackBudgetMs } from './http/ack-budget.js';
import { leftOutFields, logSummaryOf } from './observe/log-summary.js';
import type { InboundMessage } from './message.js';
import type { Store } from './store/index.js';
import { orAfter } from './timeout.js';

/** Slack sends its last retry about 5 minutes after the first try; 10 leave room for it to reach us. */
export const KEEP_TRYING_MS = 10 * 60_000;
/** Claims owed at once, per store: past it the oldest is given up (and named as lost). */
export const MAX_OWED = 1000;
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 30_000;
/** How long a webhook with no platform deadline (the web chat, bot.ingest) waits for its claim to be given back. */
const NO_DEADLINE_WAIT_MS = 1000;

/** How long, from the message's `receivedAt`, the webhook may wait for its claim to be given back before its error answer. */
export function releaseWaitMs(adapter: Adapter | undefined): number {
  // A platform that never redelivers (Twilio) has nothing to wait for: its message is answered here, or taken again under its own mark.
  if (adapter?.redelivers === false) return 0;
  return (adapter && ackBudgetMs(adapter)) ?? NO_DEADLINE_WAIT_MS;
}

interface About {
  platform: string;
  message: string;
  logger?: Logger;
}

interface Owed extends About {
  key: string;
  value: string;
  since: number;
  tries: number;
  timer?: NodeJS.Timeout;
  /** The attempt under way: resolves to its error, or undefined once given back. */
  attempt?: Promise<unknown>;
  outcome?: 'given' | 'lost';
  /** The webhook's answer went out with the claim still owed (an error line said so). */
  reported: boolean;
  settle(given: boolean): void;
  given: Promise<boolean>;
}

/** The claim `value` of `key` deleted, unless another's holds it (where the store can tell: Redis, memory, DynamoDB). */
export function giveBack(store: Store, key: string, value: string, options?: { ackDeadline?: boolean }): Promise<unknown> {
  return store.deleteIf ? store.deleteIf(key, value, options) : store.delete(key, options);
}

/** How long, from now, the webhook of `message` may still wait for a claim to be given back (none left: 0). */
export function waitLeftMs(deps: { releaseWaitMs?(platform: string): number }, message: InboundMessage): number {
  const left = (deps.releaseWaitMs?.(message.platform) ?? NO_DEADLINE_WAIT_MS) - (Date.now() - Date.parse(message.receivedAt));
  return Number.isFinite(left) ? Math.max(0, left) : 0;
}

/** The claims one store owes this process, given back in the background. */
export class OwedClaims {
  private readonly owed = new Map<string, Owed>();
  private closed = false;

  constructor(private readonly store: Store) {}

  get size(): number {
    return this.owed.size;
  }

  /** Owe `key`'s claim `value`: resolves true once it is given back, false once given up. */
  owe(key: string, value: string, about: About): Promise<boolean> {
    // The store is closed: no one is left to give it back (the caller's error line names the message).
    if (this.closed) return Promise.resolve(false);
    // A try under the same mark (a delivery taken again) that failed too owes the same claim.
    const previous = this.owed.get(key);
    if (previous?.value === value) return previous.given;
    // This try claimed the key afresh, so the claim owed before is gone (its give-back landed unseen): this one is owed now.
    if (previous) this.end(previous, 'given', previous.reported);
    if (this.owed.size >= MAX_OWED) this.end(this.owed.values().next().value!, 'lost', true, 'too many delivery claims owed at once');
    let settle!: (given: boolean) => void;
    const given = new Promise<boolean>((resolve) => (settle = resolve));
    const entry: Owed = { ...about, key, value, since: Date.now(), tries: 0, reported: false, settle, given };
    this.owed.set(key, entry);
    this.schedule(entry);
    return given;
  }

  /** The webhook answered with the claim still owed: its outcome is said when it comes. */
  reported(key: string): void {
    const entry = this.owed.get(key);
    if (entry) entry.reported = true;
  }

  /**
   * A redelivery found `key` claimed. True when the claim was this process's own, owed, and is now
   * given back (the caller claims afresh); false when it owes none. Throws the store's error when it
   * still cannot be given back: the redelivery must not be dropped as a duplicate, nor taken twice.
   * On the ack path: an attempt under way (a timer's, with no deadline) is waited for only `waitMs()`,
   * and its own attempt has the store's ack deadline.
   */
  async giveBackNow(key: string, waitMs: () => number): Promise<boolean> {
    const entry = this.owed.get(key);
    if (!entry) return false;
    // One attempt at a time: one under way settles it first.
    if (entry.attempt && !(await settlesWithin(entry.attempt, waitMs()))) throw new Error('its delivery claim, owed from an earlier try, is still being given back (the store is slow)');
    if (entry.outcome !== undefined) return entry.outcome === 'given';
    clearTimeout(entry.timer);
    const error = await this.attempt(entry, true);
    if (error !== undefined) throw error;
    return true;
  }

  /** The store closes: the claims still owed are given up, each named (nothing gives them back now). */
  close(): void {
    this.closed = true;
    for (const entry of [...this.owed.values()]) this.end(entry, 'lost', true, 'the bot closed first');
  }

  private schedule(entry: Owed): void {
    // Jittered (half to all of the backoff): claims owed since one outage do not all retry at once against a throttled store.
    const delayMs = Math.min(FIRST_RETRY_MS * 2 ** entry.tries, MAX_RETRY_MS) * (0.5 + Math.random() / 2);
    entry.timer = setTimeout(() => void this.attempt(entry), delayMs);
    // A claim owed must not keep a process from exiting; on Lambda a frozen function runs no timer until its next invocation.
    entry.timer.unref();
  }

  private async attempt(entry: Owed, onAck = false): Promise<unknown> {
    entry.tries++;
    // Past the ack: the SDK's own retries may be waited out (a throttled attempt).
    entry.attempt = giveBack(this.store, entry.key, entry.value, { ackDeadline: onAck }).then(
      () => undefined,
      (error: unknown) => error ?? new Error('the store refused to give back the claim'),
    );
    const error = await entry.attempt;
    entry.attempt = undefined;
    if (entry.outcome !== undefined) return error;
    if (error === undefined) this.end(entry, 'given', entry.reported);
    else if (Date.now() - entry.since >= KEEP_TRYING_MS) this.end(entry, 'lost', true, `tried for ${KEEP_TRYING_MS / 60_000} minutes`, error);
    else this.schedule(entry);
    return error;
  }

  private end(entry: Owed, outcome: 'given' | 'lost', say: boolean, why?: string, error?: unknown): void {
    clearTimeout(entry.timer);
    entry.outcome = outcome;
    if (this.owed.get(entry.key) === entry) this.owed.delete(entry.key);
    entry.settle(outcome === 'given');
    if (!say) return;
    const { logger } = entry;
    if (!logger) return;
    const fields = { platform: entry.platform, message: entry.message, key: entry.key, tries: entry.tries };
    if (outcome === 'lost') return logger.error({ ...fields, err: error }, `gave up giving back a delivery claim (${why}): its redelivery will be dropped as a duplicate (lost)`);
    // None lost: after an outage of thousands of messages, a line a minute per platform (how many left out), not one each.
    const leftOut = logSummaryOf(logger).take(`delivery claim given back late ${entry.platform}`);
    if (leftOut !== undefined) logger.info({ ...fields, ...leftOutFields(leftOut) }, 'a delivery claim that could not be given back in time is given back: its redelivery will be taken');
  }
}

const owedByStore = new WeakMap<Store, OwedClaims>();

/** The claims `store` owes this process (one set per store object). */
export function owedClaimsOf(store: Store): OwedClaims {
  let owed = owedByStore.get(store);
  if (!owed) owedByStore.set(store, (owed = new OwedClaims(store)));
  return owed;
}

/** Close `store`: the claims it still owes this process are given up first, each named (nothing gives them back now). */
export function closeOwing(store: Store): Promise<void> {
  owedClaimsOf(store).close();
  return store.close();
}

/**
 * Give back the claim `value` of the message's `key`: at once, then (should the store refuse)
 * again with short backoff for as long as the webhook may wait, then in the background.
 */
export async function releaseClaim(deps: { store: Store; logger?: Logger; releaseWaitMs?(platform: string): number }, message: InboundMessage, key: string, value: string): Promise<void> {
  let refused: unknown;
  try {
    await giveBack(deps.store, key, value);
    return;
  } catch (error) {
    refused = error;
  }
  const owed = owedClaimsOf(deps.store);
  const given = owed.owe(key, value, { platform: message.platform, message: message.id, ...(deps.logger ? { logger: deps.logger } : {}) });
  const waitMs = waitLeftMs(deps, message);
  if (waitMs > 0 && (await orAfter(given, waitMs, false))) return;
  owed.reported(key);
  deps.logger?.error(
    { err: refused, platform: message.platform, message: message.id, key },
    `message not taken, and its delivery claim could not be given back: its redelivery will be dropped as a duplicate (lost) unless the claim is given back first (tried again for up to ${KEEP_TRYING_MS / 60_000} minutes) or the redelivery reaches this process`,
  );
}

/** Whether `work` settled within `ms`. */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return orAfter(work.then(() => true), ms, false);
}
