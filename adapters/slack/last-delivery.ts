/**
 * Slack sends an event again at most three times (x-slack-retry-num 1..3, Socket Mode's
 * retry_num): one not taken on the third is never sent again. Over HTTP the Received says so
 * (`lastDelivery`), over Socket Mode deliver's option does, and the core names a failure to take
 * it instead of summarising it (and takes it even once the shutdown's drain has begun).
 */
import type { Logger } from 'pino';
import { logLostDelivery, type Received } from 'parley/adapter-kit';

/** The retry number of Slack's last delivery of an event. */
export const SLACK_LAST_RETRY = 3;

/** `Received.lastDelivery` of a delivery with this retry number (undefined for any but the last). */
export function lastDeliveryOf(retryNum: number | undefined, body: Record<string, unknown>): Received['lastDelivery'] {
  if (retryNum === undefined || !(retryNum >= SLACK_LAST_RETRY)) return undefined;
  return { id: typeof body.event_id === 'string' ? body.event_id : undefined };
}

/**
 * `receive`'s own store reads (the workspace's installation) failing on the last delivery: the
 * delivery is refused before the core could take it, and lost all the same, so it is named too.
 * Not the last: the work's own promise, nothing added to the ack's path.
 */
export function namedIfLost<T>(lastDelivery: Received['lastDelivery'], logger: () => Logger, work: () => Promise<T>): Promise<T> {
  if (!lastDelivery) return work();
  return work().catch((error: unknown) => {
    logLostDelivery(logger(), 'slack', lastDelivery, error);
    throw error;
  });
}
