import { PermanentError, RetryAfterError } from '../adapter.js';
import { hideSecrets } from '../secret-values.js';
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

/** The most of an error's text a dead letter keeps. */
export const MAX_ERROR_TEXT = 4_000;

/**
 * A failed job's error as its dead letter keeps it: "Name: message", its secrets hidden (a platform
 * echoing a token, a URL with its password: a dead letter is shown by `parley dlq` and the console),
 * at most MAX_ERROR_TEXT characters. A provider or a platform may put a whole page in its error (a
 * proxy's 2 MB of HTML), and each dead letter would keep it whole (Redis, SQS, the console's view).
 */
export function errorText(error: unknown): string {
  // Hidden before any cut, which could leave a secret's start that no longer reads as one.
  const shown = hideSecrets(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  if (shown.length <= MAX_ERROR_TEXT) return shown;
  // Never between the two halves of a surrogate pair.
  const code = shown.charCodeAt(MAX_ERROR_TEXT - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? MAX_ERROR_TEXT - 1 : MAX_ERROR_TEXT;
  return `${shown.slice(0, end)}… (${shown.length - end} more characters left out)`;
}
