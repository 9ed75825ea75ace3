/**
 * Answering a message in this process, for a platform that never redelivers (Twilio) when the
 * queue or the store cannot take it: claimed once (a second delivery of it is a duplicate), then
 * answered and retried as the queue would, with its backoff and attempts, before the one apology.
 */
import { SEEN_TTL_MS, keys } from './jobs.js';
import type { InboundMessage } from './message.js';
import { isDeferral, isPermanent, retryDelayMs, type RetryOptions } from './queue/index.js';
import { sendOnce } from './send-once.js';
import { asQueueError, waitOrGiveUp } from './failure.js';
import { DEFAULT_MAX_WAIT_MS, answerMessage, type ReplySink, type WorkerDeps } from './worker.js';
import type { RetryAfterError } from './adapter.js';

/**
 * Claim the message in `deps.store` (this process's own, while the shared one is down) and answer
 * it: a failure the queue would retry is retried after its backoff, up to `retry.attempts` tries in
 * all; a wait (a platform's 429, a rate limit) waits without spending an attempt, within
 * AI_MAX_WAIT_MS. A reply the platform failed is posted again by itself, and each reply's markers
 * keep a retry from posting again what was posted. Rejects when given up (after the apology).
 */
export async function answerInProcess(deps: WorkerDeps, message: InboundMessage, retry: RetryOptions): Promise<'answered' | 'duplicate'> {
  if (!(await deps.store.setIfAbsent(keys.seen(message), new Date().toISOString(), SEEN_TTL_MS))) {
    deps.metrics.duplicatesDropped.inc({ platform: message.platform });
    return 'duplicate';
  }
  deps.metrics.messagesReceived.inc({ platform: message.platform });
  const jobId = `inprocess.${message.id}`;
  const maxWaitMs = deps.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  let attempt = 1;
  let runStartedAt = Date.now();
  const final = (error: unknown) => isPermanent(error) || (!isDeferral(error) && attempt >= retry.attempts);
  const onWait = (error: RetryAfterError) => waitOrGiveUp(deps.store, jobId, error, maxWaitMs, runStartedAt);
  /** Wait before the next try: as asked for a wait (spending no attempt), with the queue's backoff after a failure. */
  const backOff = async (error: unknown) => {
    const delayMs = isDeferral(error) ? Math.min(error.retryAfterMs, retry.maxBackoffMs) : retryDelayMs(attempt, retry, error);
    if (!isDeferral(error)) attempt++;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  };
  // A reply the platform refused for now is posted again on its own: the AI is not asked again for it.
  const sink: ReplySink = async (conversation, reply, n, onSentBefore) => {
    for (;;) {
      try {
        return await sendOnce(deps, jobId, n, conversation, reply, { onSentBefore });
      } catch (caught) {
        let error = asQueueError(caught);
        if (isDeferral(error)) error = await onWait(error);
        if (final(error)) throw error;
        await backOff(error);
      }
    }
  };
  for (;;) {
    runStartedAt = Date.now();
    try {
      await answerMessage(deps, message, { jobId, attempt, isFinalFailure: final, onWait, sink });
      return 'answered';
    } catch (error) {
      if (final(error)) throw error;
      await backOff(error);
    }
  }
}
