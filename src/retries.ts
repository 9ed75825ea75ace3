/**
 * Retrying a message without a queue (answered in this process, or in direct mode), as the queue
 * would: a failure that may pass is tried again after the queue's backoff, up to JOB_ATTEMPTS
 * tries in all; a wait (a platform's 429, a rate limit) spends no attempt. A reply the platform
 * failed is posted again by itself, so the AI is not asked again for it, and each reply's markers
 * keep a retry from posting again the parts already posted.
 */
import type { PermanentError, RetryAfterError } from './adapter.js';
import { asQueueError } from './failure.js';
import { deferralDelayMs, isDeferral, isPermanent, retryDelayMs, type RetryOptions } from './queue/index.js';
import { sendOnce } from './send-once.js';
import type { ReplySink, WorkerDeps } from './worker.js';

export class Tries {
  /** This try's number: 1 on the first. */
  attempt = 1;

  constructor(private readonly retry: RetryOptions) {}

  /** Whether this failure ends the message: retrying cannot help, or the attempts are spent (a wait spends none). */
  readonly final = (error: unknown): boolean => isPermanent(error) || (!isDeferral(error) && this.attempt >= this.retry.attempts);

  /** Wait before the next try: as asked for a wait (spending no attempt), with the queue's backoff after a failure. */
  readonly backOff = async (error: unknown): Promise<void> => {
    const delayMs = isDeferral(error) ? deferralDelayMs(error) : retryDelayMs(this.attempt, this.retry, error);
    if (!isDeferral(error)) this.attempt++;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  };
}

/**
 * A sink that posts a reply again, by itself, while the platform fails it for now. `onWait`
 * decides a wait (wait again, or give up); without it a wait is thrown, for the caller to handle.
 */
export function retryingSink(deps: WorkerDeps, jobId: string, tries: Tries, onWait?: (error: RetryAfterError) => Promise<RetryAfterError | PermanentError>): ReplySink {
  return async (conversation, reply, n, onSentBefore) => {
    for (;;) {
      try {
        return await sendOnce(deps, jobId, n, conversation, reply, { onSentBefore });
      } catch (caught) {
        let error = asQueueError(caught);
        if (isDeferral(error)) {
          if (!onWait) throw error;
          error = await onWait(error);
        }
        if (tries.final(error)) throw error;
        await tries.backOff(error);
      }
    }
  };
}
