/**
 * The delivery's claim (dedupe) on the ack path when the queue cannot take a message in one step:
 * claimed in the store first, then the message taken; given back when it is not (claim-release.ts).
 */
import { randomUUID } from 'node:crypto';
import { giveBack, owedClaimsOf, releaseClaim, waitLeftMs } from './claim-release.js';
import type { IngestDeps } from './ingest.js';
import { SEEN_TTL_MS, keys } from './jobs.js';
import type { InboundMessage } from './message.js';
import type { Store } from './store/index.js';

/**
 * Claim a delivery id (atomically, in the store) and run `accept` for a first delivery.
 * The claim is released when `accept` throws, so the platform's redelivery is not mistaken
 * for a duplicate of a message that was never taken; so is a claim whose own write failed (it may
 * land late). A claim holding `delivery` is this delivery's own, left by an earlier try whose
 * outcome was unknown: it is claimed still. So is a claim this process could not give back.
 */
export async function claimDelivery<T>(
  deps: Pick<IngestDeps, 'store' | 'metrics'> & Partial<Pick<IngestDeps, 'logger' | 'releaseWaitMs'>>,
  message: InboundMessage,
  accept: () => Promise<T>,
  delivery?: string,
): Promise<T | 'duplicate'> {
  const seenKey = keys.seen(message);
  // Unique to this try, so that it can take back its own claim and no other.
  const value = delivery ?? `${new Date().toISOString()} ${randomUUID()}`;
  // Should the claim time out, the sender is told to send it again, which must not find it a duplicate.
  let claimed = await claimOwn(deps.store, seenKey, value, SEEN_TTL_MS);
  // Found claimed (never on the happy path). Under this delivery's own mark it is its own, whether or not it could be given back.
  if (!claimed && delivery !== undefined) claimed = (await deps.store.get(seenKey)) === delivery;
  // Else a claim this process owes, from a try that queued nothing, is given back and claimed afresh.
  else if (!claimed && (await owedClaimsOf(deps.store).giveBackNow(seenKey, () => waitLeftMs(deps, message)))) claimed = await claimOwn(deps.store, seenKey, value, SEEN_TTL_MS);
  if (!claimed) {
    deps.metrics.duplicatesDropped.inc({ platform: message.platform });
    return 'duplicate';
  }
  try {
    const accepted = await accept();
    deps.metrics.messagesReceived.inc({ platform: message.platform });
    return accepted;
  } catch (error) {
    // Under its own mark (a sender that never redelivers) only a try under that mark comes again, and takes the claim as its own: nothing owed.
    if (delivery !== undefined) await giveBack(deps.store, seenKey, value).catch(() => undefined);
    // Not given back (the store failing too), the claim would turn the platform's redelivery away as a duplicate: retried, and said.
    else await releaseClaim(deps, message, seenKey, value);
    throw error;
  }
}

/**
 * `key` claimed with a value unique to this try. A claim that failed may still be set (timed out: a
 * frozen Redis carries it out when it wakes), so it is taken back by a compare-and-delete sent right
 * behind it on the same connection, which runs after it.
 */
export function claimOwn(store: Store, key: string, value: string, ttlMs: number): Promise<boolean> {
  return store.setIfAbsent(key, value, ttlMs).catch((error: unknown) => {
    takeBack(store, key, value);
    throw error;
  });
}

/** This try's claim of `key` deleted, unless another's holds it; not waited for. */
export function takeBack(store: Store, key: string, value: string): void {
  store.deleteIf?.(key, value).catch(() => undefined);
}
