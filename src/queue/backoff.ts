import { PermanentError, RetryAfterError } from '../adapter.js';
import type { RetryOptions } from './queue.js';

/**
 * Delay before retry number `attempt` (1 = the first retry): exponential with "equal jitter"
 * (half fixed, half random) so a burst of failures does not retry in lockstep. A platform's
 * Retry-After wins when it asks for longer.
 */
export function retryDelayMs(attempt: number, options: RetryOptions, error?: unknown): number {
  const exponential = Math.min(options.backoffMs * 2 ** (attempt - 1), options.maxBackoffMs);
  const jittered = exponential / 2 + Math.random() * (exponential / 2);
  const asked = error instanceof RetryAfterError ? error.retryAfterMs : 0;
  return Math.round(Math.max(jittered, Math.min(asked, options.maxBackoffMs)));
}

/** The longest a queue holds a deferred job in one go: SQS's longest visibility timeout. */
export const MAX_DEFERRAL_MS = 12 * 60 * 60_000;

/**
 * How long a deferred job waits: as long as it was asked. The worker has already bounded a
 * message's waits by what is left of AI_MAX_WAIT_MS (failure.ts); a queue's backoff cap (minutes)
 * would bring it back inside a platform's Retry-After window.
 */
export function deferralDelayMs(error: RetryAfterError): number {
  return Math.min(error.retryAfterMs, MAX_DEFERRAL_MS);
}

/**
 * Whether an error only says "not now" (a platform's or our own rate limit): the job waits as
 * asked without spending an attempt, so a long rate limit cannot exhaust a message's attempts.
 */
export function isDeferral(error: unknown): error is RetryAfterError {
  return error instanceof RetryAfterError;
}

/** Whether an error ends the job at once: retrying cannot help. */
export function isPermanent(error: unknown): error is PermanentError {
  return error instanceof PermanentError;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
