/**
 * The ack path: dedupe → rate limit → enqueue. It must stay fast — a platform is waiting.
 */
import type { Logger } from 'pino';
import { SEEN_TTL_MS, conversationGroup, keys, messageJobId, type JobData } from './jobs.js';
import type { Limiter } from './limit/index.js';
import type { InboundMessage } from './message.js';
import type { Metrics } from './observe/index.js';
import type { JobQueue } from './queue/index.js';
import type { Store } from './store/index.js';

export type IngestOutcome = 'queued' | 'duplicate' | 'rate_limited';

export interface IngestDeps {
  store: Store;
  queue: JobQueue<JobData>;
  userLimiter: Limiter;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Claim a delivery id (atomically, in the store) and run `accept` for a first delivery.
 * The claim is released when `accept` throws, so the platform's redelivery is not mistaken
 * for a duplicate of a message that was never taken.
 */
export async function claimDelivery<T>(
  deps: Pick<IngestDeps, 'store' | 'metrics'>,
  message: InboundMessage,
  accept: () => Promise<T>,
): Promise<T | 'duplicate'> {
  const seenKey = keys.seen(message);
  if (!(await deps.store.setIfAbsent(seenKey, new Date().toISOString(), SEEN_TTL_MS))) {
    deps.metrics.duplicatesDropped.inc({ platform: message.platform });
    return 'duplicate';
  }
  try {
    return await accept();
  } catch (error) {
    await deps.store.delete(seenKey).catch(() => undefined);
    throw error;
  }
}

/**
 * Check the per-user limit. Over it, the message is refused and — once per window, not once per
 * message — a polite notice is queued for the conversation.
 */
export async function checkUserLimit(deps: IngestDeps, message: InboundMessage): Promise<boolean> {
  const limit = await deps.userLimiter.consume(`${message.platform}:${message.user.id}`);
  if (limit.allowed) return true;
  deps.metrics.rateLimited.inc({ platform: message.platform, limit: 'user' });
  deps.logger.info({ platform: message.platform, user: message.user.id, retryAfterMs: limit.retryAfterMs }, 'message refused by the per-user rate limit');
  const noticeKey = keys.limitNotice(message.platform, message.user.id);
  if (await deps.store.setIfAbsent(noticeKey, '1', limit.retryAfterMs)) {
    const seconds = Math.max(1, Math.ceil(limit.retryAfterMs / 1000));
    await deps.queue.add({
      id: `notice.${messageJobId(message)}`,
      group: conversationGroup(message.conversation),
      data: {
        type: 'notice',
        conversation: message.conversation,
        reply: { kind: 'notice', text: `You're sending messages faster than I can answer. Please wait about ${seconds} s and try again.` },
      },
    });
  }
  return false;
}

/** Take one inbound message: dedupe, limit, enqueue. Throws when the queue cannot take it. */
export async function ingest(deps: IngestDeps, message: InboundMessage): Promise<IngestOutcome> {
  return claimDelivery(deps, message, async () => {
    if (!(await checkUserLimit(deps, message))) return 'rate_limited' as const;
    await deps.queue.add({ id: messageJobId(message), group: conversationGroup(message.conversation), data: { type: 'message', message } });
    return 'queued' as const;
  });
}
