import { DelegateBackoff, type IRetryBackoffContext } from 'cockatiel';
import { AiError } from './errors.js';

export interface BackoffSettings {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * The wait before retry number `retry` (1 = first retry): exponential with half jitter, but never
 * shorter than the server's Retry-After, capped by maxBackoffMs and the time left before the deadline.
 */
export function retryDelayMs(
  settings: BackoffSettings,
  retry: number,
  serverWaitMs: number | undefined,
  remainingMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(settings.maxBackoffMs, settings.initialBackoffMs * 2 ** Math.max(0, retry - 1));
  // Half jitter: spreads out clients that failed together, yet keeps a floor so we never hammer.
  const jittered = exponential / 2 + random() * (exponential / 2);
  const wanted = Math.max(jittered, serverWaitMs ?? 0);
  return Math.max(0, Math.round(Math.min(wanted, settings.maxBackoffMs, remainingMs)));
}

/** A cockatiel backoff that reads Retry-After from the AiError that caused the retry. */
export function serverAwareBackoff(settings: BackoffSettings, deadlineAt: number, ranOut?: () => void) {
  return new DelegateBackoff<IRetryBackoffContext<unknown>>((context) => {
    const error = 'error' in context.result ? context.result.error : undefined;
    const serverWait = error instanceof AiError ? error.retryAfterMs : undefined;
    const remainingMs = deadlineAt - Date.now();
    const delayMs = retryDelayMs(settings, context.attempt, serverWait, remainingMs);
    // Cut to the time left: the retry would start at the deadline, only to be aborted (`ranOut` says so).
    if (delayMs >= remainingMs) ranOut?.();
    return delayMs;
  });
}
