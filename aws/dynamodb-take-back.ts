/**
 * Taking back a DynamoStore claim whose outcome is unknown (setIfAbsent's answer lost or too late).
 * On the ack path first, within the ack deadline; should that not complete, the claim could still
 * land afterwards and turn every redelivery of its message away as a duplicate (lost). So the
 * take-back goes on in the background, without the ack deadline (the SDK's own retries, then ours
 * with backoff) for up to TAKE_BACK_FOR_MS, as parley's owed delivery claims are given back
 * (src/claim-release.ts). `settled()` lets a serverless function wait for it (bot.afterAnswers()).
 */
import type { Logger } from 'pino';
import { ACK_CALL_MS, within } from './deadlines.js';
import { conditional, expiry, LIVE, names, type ItemAccess } from './dynamodb-item.js';

/** How long a withdrawn claim's marker outlives it: far longer than a request can be on its way. */
export const WITHDRAWN_TTL_MS = 10 * 60_000;
/** An item holding only claims taken back: claimable, as an absent key is. */
export const MARKER = '(attribute_exists(#w) AND attribute_not_exists(#c))';
/** As long as an owed delivery claim is given back (claim-release.ts KEEP_TRYING_MS): Slack's last retry comes about 5 minutes in. */
export const TAKE_BACK_FOR_MS = 10 * 60_000;
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 30_000;

/**
 * Take back the setIfAbsent call `claim`'s item, if it is there, or stop it landing, if it is still
 * on its way: its id goes into `withdrawn` (a set: two late deliveries in a row both stay out),
 * which stays on the item through later claims. Our item (or none, or an expired one) becomes a
 * marker; another call's live claim is left alone, only our id added to it, so our claim cannot
 * land once that one is taken back too. (Once it expires, ours cannot either: a claim's `:now` is
 * the time it was sent, before that claim expired.)
 */
export async function withdrawClaim({ dynamo, table }: ItemAccess, key: string, claim: string, deadline: { abortSignal?: AbortSignal }): Promise<void> {
  const { UpdateCommand } = dynamo.sdk.lib;
  const common = { TableName: table, Key: { key } };
  const attributes = { '#w': 'withdrawn', '#ms': names['#ms'], '#c': 'claim' };
  // twice at most: the item may change between the two writes (a claim released, say)
  for (let round = 1; round <= 2; round++) {
    const ttl = expiry(WITHDRAWN_TTL_MS);
    const marked = await conditional(() =>
      dynamo.documents.send(new UpdateCommand({
        ...common,
        UpdateExpression: 'ADD #w :claims SET #s = :s, #ms = :ms REMOVE #v, #c',
        ConditionExpression: `attribute_not_exists(#k) OR #c = :claim OR #ms <= :now OR ${MARKER}`,
        ExpressionAttributeNames: { ...attributes, '#k': names['#k'], '#s': names['#s'], '#v': names['#v'] },
        ExpressionAttributeValues: { ':claims': new Set([claim]), ':claim': claim, ':now': Date.now(), ':s': ttl.expires_at, ':ms': ttl.expires_at_ms },
      }), deadline),
    );
    if (marked) return;
    // another call's live claim (a value set() wrote is no claim: it gets no ids, or it would read as a marker)
    const added = await conditional(() =>
      dynamo.documents.send(new UpdateCommand({
        ...common,
        UpdateExpression: 'ADD #w :claims',
        ConditionExpression: `attribute_exists(#c) AND #c <> :claim AND ${LIVE}`,
        ExpressionAttributeNames: attributes,
        ExpressionAttributeValues: { ':claims': new Set([claim]), ':claim': claim, ':now': Date.now() },
      }), deadline),
    );
    if (added) return;
  }
}

/** One store's take-backs: on the ack path, then (not done) in the background. */
export class TakeBacks {
  private readonly going = new Set<Promise<void>>();
  /** key → the claims of it still being taken back in the background. */
  private readonly owed = new Map<string, Set<string>>();
  private readonly closing = new AbortController();

  constructor(private readonly access: ItemAccess, private logger?: Pick<Logger, 'warn'>) {}

  /** The bot's logger, unless one was given at construction. */
  useLogger(logger: Pick<Logger, 'warn'>): void {
    this.logger ??= logger;
  }

  /** Within the ack deadline; should it not complete, it goes on in the background (this resolves either way). */
  async takeBack(key: string, claim: string): Promise<void> {
    try {
      await this.withdrawNow(key, claim);
    } catch (error) {
      if (this.closing.signal.aborted) return this.gaveUp(key, 1, 'the store closed first', error);
      this.owed.set(key, (this.owed.get(key) ?? new Set()).add(claim));
      const going = this.keepTrying(key, claim, Date.now()).finally(() => (this.going.delete(going), this.done(key, claim)));
      this.going.add(going);
    }
  }

  /**
   * Before a new claim of `key`: the claims of it still taken back in the background are taken back
   * now, within the ack deadline. Else the redelivery of their message, reaching this process (a
   * Lambda thawed by it, say), would meet one of them landed late and be dropped as a duplicate.
   * Throws when one cannot be taken back in time: the ack fails, and the platform sends it again.
   */
  async before(key: string): Promise<void> {
    const claims = this.owed.get(key);
    if (!claims) return;
    for (const claim of [...claims]) {
      await this.withdrawNow(key, claim);
      this.done(key, claim);
    }
  }

  /** Resolves once no take-back goes on in the background (those started meanwhile included). */
  async settled(): Promise<void> {
    while (this.going.size > 0) await Promise.allSettled(this.going);
  }

  /** The store closes: a take-back waiting for its next try gives up (its client is gone). */
  close(): void {
    this.closing.abort();
  }

  private withdrawNow(key: string, claim: string): Promise<void> {
    return withdrawClaim(this.access, key, claim, within(ACK_CALL_MS, `DynamoDB UpdateItem on ${this.access.table}`));
  }

  private done(key: string, claim: string): void {
    const claims = this.owed.get(key);
    if (claims?.delete(claim) && claims.size === 0) this.owed.delete(key);
  }

  private async keepTrying(key: string, claim: string, since: number): Promise<void> {
    for (let tries = 1; ; tries++) {
      if (!this.owed.get(key)?.has(claim)) return; // taken back on a redelivery's way (before())
      try {
        // no deadline of ours: the SDK's own retries (each attempt has the client's deadline)
        await withdrawClaim(this.access, key, claim, {});
        return;
      } catch (error) {
        if (this.closing.signal.aborted) return this.gaveUp(key, tries + 1, 'the store closed first', error);
        if (Date.now() - since >= TAKE_BACK_FOR_MS) return this.gaveUp(key, tries + 1, `tried for ${TAKE_BACK_FOR_MS / 60_000} minutes`, error);
        // Jittered (half to all of the backoff), as owed claims are: not all at once against a throttled table.
        await this.pause(Math.min(FIRST_RETRY_MS * 2 ** (tries - 1), MAX_RETRY_MS) * (0.5 + Math.random() / 2));
      }
    }
  }

  /** `ms`, or until the store closes; the timer keeps no process from exiting. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const { signal } = this.closing;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private gaveUp(key: string, tries: number, why: string, error: unknown): void {
    // the key (a message's id), never its text; the error's name and message only
    const err = { name: (error as { name?: unknown })?.name, message: (error as { message?: unknown })?.message };
    const line = `DynamoStore: gave up taking back a claim whose answer came too late (${why}): should it land, the redelivery of its message is dropped as a duplicate (lost) until the claim expires`;
    const fields = { table: this.access.table, key, tries, err };
    if (this.logger) this.logger.warn(fields, line);
    else console.warn(line, JSON.stringify(fields));
  }
}
