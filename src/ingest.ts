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
  /** Messages per conversation, and per workspace / tenant; absent = no limit. */
  conversationLimiter?: Limiter;
  tenantLimiter?: Limiter;
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
    const accepted = await accept();
    deps.metrics.messagesReceived.inc({ platform: message.platform });
    return accepted;
  } catch (error) {
    await deps.store.delete(seenKey).catch(() => undefined);
    throw error;
  }
}

/**
 * Check the limits (per user, per conversation, per tenant). Over one, the message is refused and
 * — once per window, not once per message — a polite notice is queued for the conversation.
 */
export async function checkLimits(deps: IngestDeps, message: InboundMessage): Promise<boolean> {
  // Asking for a person is never refused: the adapter has already stepped the bot aside.
  if (message.handoff) return true;
  const checks: [string, Limiter | undefined, string | undefined][] = [
    ['user', deps.userLimiter, message.user.id],
    ['conversation', deps.conversationLimiter, message.conversation.id],
    ['tenant', deps.tenantLimiter, message.tenant],
  ];
  for (const [kind, limiter, subject] of checks) {
    if (!limiter || subject === undefined) continue;
    const limit = await limiter.consume(`${message.platform}:${subject}`);
    if (limit.allowed) continue;
    deps.metrics.rateLimited.inc({ platform: message.platform, limit: kind });
    deps.logger.info({ platform: message.platform, limit: kind, subject, retryAfterMs: limit.retryAfterMs }, `message refused by the per-${kind} rate limit`);
    await noticeOncePerWindow(deps, message, kind, subject, limit.retryAfterMs);
    return false;
  }
  return true;
}

async function noticeOncePerWindow(deps: IngestDeps, message: InboundMessage, kind: string, subject: string, retryAfterMs: number): Promise<void> {
  const noticeKey = keys.limitNotice(message.platform, `${kind}.${subject}`);
  if (!(await deps.store.setIfAbsent(noticeKey, '1', retryAfterMs))) return;
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const text =
    kind === 'user'
      ? `You're sending messages faster than I can answer. Please wait about ${seconds} s and try again.`
      : `I'm getting more messages than I can answer right now. Please wait about ${seconds} s and try again.`;
  await deps.queue.add({
    id: `notice.${messageJobId(message)}`,
    group: conversationGroup(message.conversation),
    data: { type: 'notice', conversation: message.conversation, reply: { kind: 'notice', text } },
  });
}

/** Take one inbound message: dedupe, limit, enqueue. Throws when the queue cannot take it. */
export async function ingest(deps: IngestDeps, message: InboundMessage): Promise<IngestOutcome> {
  return claimDelivery(deps, message, async () => {
    if (!(await checkLimits(deps, message))) return 'rate_limited' as const;
    await deps.queue.add({ id: messageJobId(message), group: conversationGroup(message.conversation), data: { type: 'message', message } });
    return 'queued' as const;
  });
}
