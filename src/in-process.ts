/**
 * Answering a message in this process, for a platform that never redelivers (Twilio) when the
 * queue or the store cannot take it: claimed once (a second delivery of it is a duplicate), then
 * answered and retried as the queue would, with its backoff and attempts, before the one apology.
 */
import { SEEN_TTL_MS, keys } from './jobs.js';
import type { InboundMessage } from './message.js';
import type { RetryOptions } from './queue/index.js';
import { waitOrGiveUp } from './failure.js';
import { retryingSink, Tries } from './retries.js';
import { DEFAULT_MAX_WAIT_MS, answerMessage, type WorkerDeps } from './worker.js';
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
  const tries = new Tries(retry);
  let runStartedAt = Date.now();
  const onWait = (error: RetryAfterError) => waitOrGiveUp(deps.store, jobId, error, maxWaitMs, runStartedAt);
  // A reply the platform refused for now is posted again on its own: the AI is not asked again for it.
  const sink = retryingSink(deps, jobId, tries, onWait);
  for (;;) {
    runStartedAt = Date.now();
    try {
      await answerMessage(deps, message, { jobId, attempt: tries.attempt, isFinalFailure: tries.final, onWait, sink });
      return 'answered';
    } catch (error) {
      if (tries.final(error)) throw error;
      await tries.backOff(error);
    }
  }
}
