/**
 * `AdapterContext.feedback`: a person's 👍/👎 on an answer, stored with its exchange in the
 * conversation log (`ConversationLog.rate`) and counted in `parley_feedback_total{platform,rating}`.
 * An exchange is the job that answered: its id starts every key of its replies
 * (`SendOptions.key` is `<job id>:<n>`, a part's key `<job id>:<n>:<index>`; job ids hold no ':').
 */
import type { Logger } from 'pino';
import type { Feedback } from './adapter.js';
import type { ConversationLog, ExchangeFeedback } from './conversation-log.js';
import type { Metrics } from './observe/index.js';

/** A reason is cut to this many characters. */
export const MAX_REASON_CHARS = 1000;

/** The exchange (job id) a reply's key or a part's key belongs to. */
export function exchangeOf(key: string): string {
  const colon = key.indexOf(':');
  return colon < 0 ? key : key.slice(0, colon);
}

/** `logger` names the platform already (the bot's child logger per adapter): lines carry it once. */
export function feedbackRecorder(log: ConversationLog, metrics: Metrics, logger: Logger): (feedback: Feedback) => Promise<boolean> {
  return async ({ platform, conversation, exchange, rating, reason, user }) => {
    const text = reason?.trim().slice(0, MAX_REASON_CHARS);
    const stored: ExchangeFeedback = { rating, ...(text ? { reason: text } : {}), at: new Date().toISOString(), ...(user ? { user } : {}) };
    // A log that cannot store ratings still counts them.
    const result = log.rate ? await log.rate(conversation.id, exchange, stored) : {};
    if (!result) {
      logger.info({ conversation: conversation.id, exchange }, 'feedback on an exchange the conversation log does not hold; ignored');
      return false;
    }
    // The same button again (a double click, Slack's toggle) keeps that person's reason for it.
    const previous = result.previous;
    if (!text && previous?.reason && previous.rating === rating && previous.user === user && log.rate) {
      await log.rate(conversation.id, exchange, { ...stored, reason: previous.reason });
    }
    // A reason added to a rating, or the same button again, is not another rating.
    if (result.previous?.rating !== rating) metrics.feedback.inc({ platform, rating });
    logger.info({ conversation: conversation.id, exchange, rating, reason: Boolean(text) }, 'answer rated');
    return true;
  };
}
