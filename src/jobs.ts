/**
 * What travels through the queue, and the store keys that make processing effectively-once.
 */
import type { ConversationRef, InboundMessage, Reply } from './message.js';

/** A message to answer, or a notice to post (a rate-limit warning). */
export type JobData =
  | MessageJobData
  | NoticeJobData;

/**
 * `givenUp`: the message whose apology this is, given up as stalled while a run may still be on
 * it (abandonJob): judged when the apology is due, lost only if it is still unanswered then.
 */
export type NoticeJobData = { type: 'notice'; conversation: ConversationRef; reply: Reply; givenUp?: InboundMessage };

/**
 * `requestId`: the X-Request-Id of the webhook that brought the message, bound on the worker's log
 * lines for it. Absent when there was no webhook (Socket Mode, `bot.ingest`) and in jobs queued by
 * a version before it was carried.
 */
export type MessageJobData = { type: 'message'; message: InboundMessage; requestId?: string };

/** A message's job data; no `requestId` key at all without one (the job's JSON is as it was). */
export function messageData(message: InboundMessage, requestId: string | undefined): MessageJobData {
  return requestId === undefined ? { type: 'message', message } : { type: 'message', message, requestId };
}

/** Ids that are safe as BullMQ job ids and Redis keys: no ':' from a platform's id leaks in. */
function safe(part: string): string {
  return part.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The job id of a message: its platform and its delivery-stable id. */
export function messageJobId(message: Pick<InboundMessage, 'platform' | 'id'>): string {
  return `${safe(message.platform)}.${safe(message.id)}`;
}

/** The group that keeps one conversation's messages in order. */
export function conversationGroup(conversation: ConversationRef): string {
  return `${safe(conversation.platform)}.${safe(conversation.id)}`;
}

export const keys = {
  /** Claimed when a delivery is first seen; released if it could not be queued. */
  seen: (message: Pick<InboundMessage, 'platform' | 'id'>) => `parley:seen:${messageJobId(message)}`,
  /** Set after reply number `n` of a job is posted, so a recovered job does not post it again. */
  sent: (jobId: string, n: number) => `parley:sent:${jobId}:${n}`,
  /** A streamed reply that broke after it started: its whole text and the rest still to post, for a retry to finish. */
  brokenStream: (jobId: string, n: number) => `parley:broken-stream:${jobId}:${n}`,
  /** Set when a job's apology is posted: one per failed message, whatever happens after. */
  apology: (jobId: string) => `parley:apology:${jobId}`,
  /** When a job first had to wait (rate limit, open circuit): AI_MAX_WAIT_MS counts from here. */
  waiting: (jobId: string) => `parley:waiting:${jobId}`,
  /** Claimed when a rate-limit notice is due: one notice per user per window. */
  limitNotice: (platform: string, userId: string) => `parley:limit-notice:${safe(platform)}.${safe(userId)}`,
  /** Held while a conversation is being answered. */
  lock: (conversation: ConversationRef) => `parley:lock:${conversationGroup(conversation)}`,
};

/** How long a delivery id is remembered: longer than any platform's redelivery window. */
export const SEEN_TTL_MS = 24 * 60 * 60 * 1000;
/** How long sent and apology markers are kept: longer than a job can live in the queue. */
export const MARKER_TTL_MS = 7 * 24 * 60 * 60 * 1000;
