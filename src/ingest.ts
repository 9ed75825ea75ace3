/**
 * The ack path: dedupe → rate limit → enqueue. It must stay fast — a platform is waiting.
 */
import type { Logger } from 'pino';
import { SEEN_TTL_MS, conversationGroup, keys, messageJobId, type JobData } from './jobs.js';
import { unlimited, type Limiter } from './limit/index.js';
import type { InboundMessage } from './message.js';
import type { Metrics } from './observe/index.js';
import type { Admission, AdmissionLimit, JobQueue } from './queue/index.js';
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
  for (const [kind, limiter, subject] of limitsOf(deps, message)) {
    const limit = await limiter.consume(`${message.platform}:${subject}`);
    if (limit.allowed) continue;
    await refused(deps, message, kind, subject, limit.retryAfterMs);
    return false;
  }
  return true;
}

/** The limits that apply to a message, in the order they are checked. */
function limitsOf(deps: IngestDeps, message: InboundMessage): [string, Limiter, string][] {
  // Asking for a person is never refused: the adapter has already stepped the bot aside.
  if (message.handoff) return [];
  const checks: [string, Limiter | undefined, string | undefined][] = [
    ['user', deps.userLimiter, message.user.id],
    ['conversation', deps.conversationLimiter, message.conversation.id],
    ['tenant', deps.tenantLimiter, message.tenant],
  ];
  return checks.filter((check): check is [string, Limiter, string] => check[1] !== undefined && check[1] !== unlimited && check[2] !== undefined);
}

async function refused(deps: IngestDeps, message: InboundMessage, kind: string, subject: string, retryAfterMs: number): Promise<void> {
  deps.metrics.rateLimited.inc({ platform: message.platform, limit: kind });
  deps.logger.info({ platform: message.platform, limit: kind, subject, retryAfterMs }, `message refused by the per-${kind} rate limit`);
  await noticeOncePerWindow(deps, message, kind, subject, retryAfterMs);
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
  const admission = admissionOf(deps, message);
  if (admission) return admitAtTheDoor(deps, message, admission);
  return claimDelivery(deps, message, async () => {
    if (!(await checkLimits(deps, message))) return 'rate_limited' as const;
    await deps.queue.add({ id: messageJobId(message), group: conversationGroup(message.conversation), data: { type: 'message', message } });
    return 'queued' as const;
  });
}

/**
 * The limits as a queue checks them at its door (JobQueue.admit), or undefined when the queue
 * cannot, or a limit is the developer's own limiter (whose rule the queue cannot know).
 */
function admissionOf(deps: IngestDeps, message: InboundMessage): Admission | undefined {
  if (!deps.queue.admit) return undefined;
  const limits: AdmissionLimit[] = [];
  for (const [name, limiter, subject] of limitsOf(deps, message)) {
    if (!limiter.rule) return undefined;
    limits.push({ name, subject: `${message.platform}:${subject}`, ...limiter.rule });
  }
  return { claim: `seen:${messageJobId(message)}`, claimTtlMs: SEEN_TTL_MS, limits };
}

/** Dedupe, limits and enqueue in the queue's one step (on Redis: one round trip per ack). */
async function admitAtTheDoor(deps: IngestDeps, message: InboundMessage, admission: Admission): Promise<IngestOutcome> {
  const job = { id: messageJobId(message), group: conversationGroup(message.conversation), data: { type: 'message' as const, message } };
  const admitted = await deps.queue.admit!(job, admission);
  if (admitted.outcome === 'duplicate') {
    deps.metrics.duplicatesDropped.inc({ platform: message.platform });
    return 'duplicate';
  }
  deps.metrics.messagesReceived.inc({ platform: message.platform });
  if (admitted.outcome === 'queued') return 'queued';
  // Refused: the notice costs its own round trips, once per window.
  await refused(deps, message, admitted.limit.name, admitted.limit.subject.slice(message.platform.length + 1), admitted.retryAfterMs);
  return 'rate_limited';
}
