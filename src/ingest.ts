/**
 * The ack path: dedupe → rate limit → enqueue. It must stay fast — a platform is waiting.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { HttpResponse, LimitRefusal, Outcome, Received } from './adapter.js';
import { claimDelivery, claimOwn, takeBack } from './delivery-claim.js';
import { checkInbound } from './inbound-check.js';
import { SEEN_TTL_MS, conversationGroup, keys, messageData, messageJobId, type JobData } from './jobs.js';
import { unlimited, type Limiter } from './limit/index.js';
import type { InboundMessage } from './message.js';
import type { Metrics } from './observe/index.js';
import { leftOutFields, logSummaryOf } from './observe/log-summary.js';
import { QueueFullError, type Admission, type AdmissionLimit, type JobQueue } from './queue/index.js';
import type { Store } from './store/index.js';

/** 'ignored': the message's `onlyIfStored` key was not in the store; nothing was claimed or queued. */
export type IngestOutcome = 'queued' | 'duplicate' | 'rate_limited' | 'ignored';

/** What became of a message, with the refusal when a limit refused it. */
export type Ingested = { outcome: 'queued' | 'duplicate' | 'ignored' } | { outcome: 'rate_limited'; refusal: LimitRefusal };

/** How the sender takes a message (its adapter's `Received.overLimit` and `Received.taken`). */
export interface IngestOptions {
  /**
   * The sender is told of a refusal itself (a 429): no notice is queued, and the delivery's claim
   * is given back, so the same message sent again after the wait is taken.
   */
  tellsRefusal?: boolean;
  /** Run once the message is taken (first delivery, within the limits), before it is queued or answered. */
  taken?(message: InboundMessage): Promise<void>;
  /**
   * This delivery's own mark, for a sender that may take the same delivery again when the outcome
   * of a try is unknown (a timeout): a claim in the store holding it is this delivery's own, from
   * a try that claimed and went no further, so it does not make the message a duplicate.
   */
  delivery?: string;
}

export interface IngestDeps {
  store: Store;
  queue: JobQueue<JobData>;
  userLimiter: Limiter;
  /** Messages per conversation, and per workspace / tenant; absent = no limit. */
  conversationLimiter?: Limiter;
  tenantLimiter?: Limiter;
  metrics: Metrics;
  logger: Logger;
  /**
   * The Redis key a store key has on the queue's server, when the store and the queue are the
   * bot's own Redis backends on one server: a message's `onlyIfStored` is then checked in the
   * queue's one step (JobQueue.admit). Absent: the store is read first.
   */
  keyOnQueueServer?(storeKey: string): string;
  /** How long, from a message's `receivedAt`, its webhook may wait for a claim it could not give back (claim-release.ts); default 1 s. */
  releaseWaitMs?(platform: string): number;
}

export { claimDelivery } from './delivery-claim.js';
export { closeOwing } from './claim-release.js';

const NO_OPTIONS: IngestOptions = Object.freeze({});

/** How the adapter asked for its messages to be taken (`Received.overLimit`, `Received.taken`). */
export function ingestOptionsOf(received: Received): IngestOptions {
  // Most senders (Slack, WhatsApp, Intercom) use neither: nothing allocated on their ack path.
  if (!received.overLimit && !received.taken) return NO_OPTIONS;
  return { ...(received.overLimit ? { tellsRefusal: true } : {}), ...(received.taken ? { taken: (message: InboundMessage) => received.taken!(message) } : {}) };
}

/**
 * The webhook's answer: the adapter's own refusal when a limit refused a message and it tells
 * refusals; with what became of its messages (`outcome`), for its request line.
 */
export function answerOf(received: Received, refusal: LimitRefusal | undefined, outcome: Outcome | undefined): HttpResponse {
  const response = refusal && received.overLimit ? received.overLimit(refusal) : received.response;
  if (outcome === undefined) return response;
  // An answer made with the field left open (the Slack fast path's, made for this request) is filled
  // in place: the ack path makes no object for it. Any other is copied: it may be an adapter's constant.
  if ('outcome' in response && response.outcome === undefined && !Object.isFrozen(response)) {
    response.outcome = outcome;
    return response;
  }
  return { ...response, outcome };
}

/**
 * Check the limits (per user, per conversation, per tenant). Over one, the message is refused and
 * — once per window, not once per message, and unless the sender is told (`tellsRefusal`) — a
 * polite notice is queued for the conversation.
 */
export async function checkLimits(deps: IngestDeps, message: InboundMessage, options: IngestOptions = {}, requestId?: string): Promise<LimitRefusal | undefined> {
  for (const [kind, limiter, subject] of limitsOf(deps, message)) {
    const limit = await limiter.consume(`${message.platform}:${subject}`);
    if (limit.allowed) continue;
    await refused(deps, message, kind, subject, limit.retryAfterMs, !options.tellsRefusal, requestId);
    return { limit: kind, retryAfterMs: limit.retryAfterMs };
  }
  return undefined;
}

/**
 * Claim, limits, `options.taken`, then `accept`, one step after the other: a refusal the sender
 * is told of gives its claim back, and `taken` runs before the message can be answered.
 */
export async function takeDelivery(deps: IngestDeps, message: InboundMessage, options: IngestOptions, accept: () => Promise<void>, requestId?: string): Promise<Ingested> {
  if (message.onlyIfStored !== undefined && !(await isStored(deps, message.onlyIfStored))) return ignored(deps, message);
  const result = await claimDelivery(deps, message, async (): Promise<Ingested> => {
    const refusal = await checkLimits(deps, message, options, requestId);
    if (refusal) return { outcome: 'rate_limited', refusal };
    await options.taken?.(message);
    // The mark goes beside the enqueue, not before it: one more write, no longer an ack.
    if (message.marks) await Promise.all([mark(deps, message), accept()]);
    else await accept();
    return { outcome: 'queued' };
  }, options.delivery);
  if (result === 'duplicate') return { outcome: 'duplicate' };
  // Told to come back later, the sender sends this very message again: it must be taken then.
  if (result.outcome === 'rate_limited' && options.tellsRefusal) await deps.store.delete(keys.seen(message));
  return result;
}

/** The limits that apply to a message, in the order they are checked. */
/**
 * Whether a message is taken in the queue's one step (JobQueue.admit: claim, limits and enqueue at
 * once) rather than claimed first and enqueued after: only then may the ack answer 503 while its step
 * is still under way (ack-budget.ts), since a redelivery that finds the claim finds the job with it.
 */
export function takesInOneStep(deps: IngestDeps): boolean {
  return deps.queue.admit !== undefined && [deps.userLimiter, deps.conversationLimiter, deps.tenantLimiter].every((limiter) => limiter === undefined || limiter === unlimited || limiter.rule !== undefined);
}

function limitsOf(deps: IngestDeps, message: InboundMessage): [string, Limiter, string][] {
  // Asking for a person is never refused: the adapter has already stepped the bot aside.
  if (message.handoff) return [];
  const checks: [string, Limiter | undefined, string | undefined][] = [
    // A user id is the platform's within its tenant (Slack: the workspace, WhatsApp: the Twilio
    // account): one tenant's traffic must not spend a same-named user's window in another.
    ['user', deps.userLimiter, message.tenant === undefined ? message.user.id : `${message.tenant}:${message.user.id}`],
    ['conversation', deps.conversationLimiter, message.conversation.id],
    ['tenant', deps.tenantLimiter, message.tenant],
  ];
  return checks.filter((check): check is [string, Limiter, string] => check[1] !== undefined && check[1] !== unlimited && check[2] !== undefined);
}

/** A refused message, counted and logged; with `notify`, its notice is queued here (once per window). */
async function refused(deps: IngestDeps, message: InboundMessage, kind: string, subject: string, retryAfterMs: number, notify: boolean, requestId: string | undefined): Promise<void> {
  deps.metrics.rateLimited.inc({ platform: message.platform, limit: kind });
  // Summarised (one line a minute per platform and limit, with how many were left out): a flood is
  // refused message by message, and its log must not be. Each one is at debug.
  const leftOut = logSummaryOf(deps.logger).take(`rate limit ${message.platform} ${kind}`);
  const level = leftOut === undefined ? 'debug' : 'info';
  // The message's job id, webhook and conversation, as the worker's lines name them: support finds this refusal by them.
  const which = { job: messageJobId(message), requestId, conversation: message.conversation.id };
  deps.logger[level]({ platform: message.platform, limit: kind, subject, retryAfterMs, ...which, ...leftOutFields(leftOut ?? 0) }, `message refused by the per-${kind} rate limit`);
  if (notify) await noticeOncePerWindow(deps, message, kind, subject, retryAfterMs);
}

/**
 * The window's notice-once key is this try's own (a unique value), so a try that failed takes it
 * back: a SET that timed out (a frozen Redis carries it out when it wakes) or a notice the queue did
 * not take would otherwise leave the window silent. The redelivery queues the notice under the same
 * job id, so a try that landed after all is not doubled.
 */
async function noticeOncePerWindow(deps: IngestDeps, message: InboundMessage, kind: string, subject: string, retryAfterMs: number): Promise<void> {
  const noticeKey = keys.limitNotice(message.platform, `${kind}.${subject}`);
  const value = randomUUID();
  if (!(await claimOwn(deps.store, noticeKey, value, retryAfterMs))) return;
  await deps.queue.add({ id: noticeId(message), group: conversationGroup(message.conversation), data: noticeData(message, kind, String(Math.max(1, Math.ceil(retryAfterMs / 1000)))) }).catch((error: unknown) => {
    takeBack(deps.store, noticeKey, value);
    // A full in-process queue: refused without its notice (a 503 would only bring it back to be refused again).
    if (!(error instanceof QueueFullError)) throw error;
  });
}

const noticeId = (message: InboundMessage) => `notice.${messageJobId(message)}`;

/** The notice of a refusal by the `kind` limit, asking to wait `seconds`. */
function noticeData(message: InboundMessage, kind: string, seconds: string): JobData {
  const text =
    kind === 'user'
      ? `You're sending messages faster than I can answer. Please wait about ${seconds} s and try again.`
      : `I'm getting more messages than I can answer right now. Please wait about ${seconds} s and try again.`;
  return { type: 'notice', conversation: message.conversation, reply: { kind: 'notice', text } };
}

/** A refused message's notice, as the queue's pumps make it (BullQueueOptions.noticeOf): the door's script queued it. */
export function noticeOfRefused(refused: JobData, limit: string, seconds: number): JobData | undefined {
  return refused.type === 'message' ? noticeData(refused.message, limit, String(Number.isFinite(seconds) ? Math.max(1, seconds) : 1)) : undefined;
}

/** Take one inbound message (`bot.ingest`): dedupe, limit, enqueue. Throws when the queue cannot take it, or the message lacks a field. */
export async function ingest(deps: IngestDeps, message: InboundMessage): Promise<IngestOutcome> {
  checkInbound(message);
  return (await ingestMessage(deps, message)).outcome;
}

/**
 * `ingest`, with the refusal's details, for a sender that takes messages its own way (`options`).
 * `requestId`: the webhook's X-Request-Id, carried with the job to the worker's log lines.
 */
export async function ingestMessage(deps: IngestDeps, message: InboundMessage, options: IngestOptions = {}, requestId?: string): Promise<Ingested> {
  // The queue's one step cannot give a refusal's claim back, nor run `taken` before the job exists.
  const admission = options.tellsRefusal || options.taken ? undefined : admissionOf(deps, message);
  if (admission) {
    // A condition the queue cannot check in its step is checked in the store first.
    if (message.onlyIfStored !== undefined && admission.requires === undefined && !(await isStored(deps, message.onlyIfStored))) return ignored(deps, message);
    return admitAtTheDoor(deps, message, admission, requestId);
  }
  return takeDelivery(deps, message, options, async () => {
    await deps.queue.add({ id: messageJobId(message), group: conversationGroup(message.conversation), data: messageData(message, requestId) });
  }, requestId);
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
  // The refusal's notice is queued in the same step (once per window): a step that timed out, and
  // that Redis carried out after all, makes the redelivery a duplicate, and the notice is queued still.
  const admission: Admission = { claim: `seen:${messageJobId(message)}`, claimTtlMs: SEEN_TTL_MS, limits };
  if (limits.length > 0) admission.notice = { id: noticeId(message) };
  if (message.onlyIfStored !== undefined && deps.keyOnQueueServer) admission.requires = deps.keyOnQueueServer(message.onlyIfStored);
  if (message.marks && deps.keyOnQueueServer) admission.marks = { key: deps.keyOnQueueServer(message.marks.key), ttlMs: message.marks.ttlMs };
  return admission;
}

/** Dedupe, limits and enqueue in the queue's one step (on Redis: one round trip per ack). */
async function admitAtTheDoor(deps: IngestDeps, message: InboundMessage, admission: Admission, requestId: string | undefined): Promise<Ingested> {
  const job = { id: messageJobId(message), group: conversationGroup(message.conversation), data: messageData(message, requestId) };
  const admitted = await deps.queue.admit!(job, admission);
  if (admitted.outcome === 'ignored') return ignored(deps, message);
  if (admitted.outcome === 'duplicate') {
    deps.metrics.duplicatesDropped.inc({ platform: message.platform });
    return { outcome: 'duplicate' };
  }
  deps.metrics.messagesReceived.inc({ platform: message.platform });
  if (admitted.outcome === 'queued') {
    // A mark the queue's step could not write (the store is on another server) costs its own round trip.
    if (message.marks && !admission.marks) await mark(deps, message);
    return { outcome: 'queued' };
  }
  // Refused: its notice, once per window, was queued in the same step (by a queue that says so).
  const { limit, retryAfterMs, noticed } = admitted;
  await refused(deps, message, limit.name, limit.subject.slice(message.platform.length + 1), retryAfterMs, noticed === undefined, requestId);
  return { outcome: 'rate_limited', refusal: { limit: limit.name, retryAfterMs } };
}

/**
 * Write a taken message's mark. Not worth refusing the message for: should the store fail, the
 * adapter marks the same key again later (Slack: once the reply is posted).
 */
async function mark(deps: IngestDeps, message: InboundMessage): Promise<void> {
  const { key, ttlMs } = message.marks!;
  await deps.store.set(key, '1', ttlMs).catch((error: unknown) => deps.logger.warn({ err: error, platform: message.platform, message: message.id }, 'could not mark what a taken message starts (e.g. its Slack thread)'));
}

/** Whether a message's `onlyIfStored` key is in the store (only read for a message that has one: the ack path stays as it was). */
async function isStored(deps: IngestDeps, key: string): Promise<boolean> {
  return (await deps.store.get(key)) !== undefined;
}

/** A message whose condition does not hold: not a message the bot received, nor a duplicate. */
function ignored(deps: IngestDeps, message: InboundMessage): Ingested {
  deps.logger.debug({ platform: message.platform, message: message.id, onlyIfStored: message.onlyIfStored }, 'message ignored: its key is not in the store');
  return { outcome: 'ignored' };
}
