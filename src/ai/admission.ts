/**
 * Every AI call passes through the adaptive limit: it waits for a slot, and a 429 (or a 503 with
 * Retry-After) is waited out as the provider asked, then tried again. None of this spends the
 * call's attempts or its deadline: those are for real failures. Waiting inline is bounded; past
 * the bound the call ends with a "wait" AiError (rate_limited / overloaded) carrying how long to
 * wait, so the queue can hold the message without holding a worker.
 */
import type { Logger } from 'pino';
import { DEFAULT_THROTTLE_MS, MAX_THROTTLE_MS, type AdaptiveLimit } from './adaptive-limit.js';
import { toAiError } from './classify.js';
import { AiError } from './errors.js';
import { leftOutFields, logSummaryOf } from '../observe/log-summary.js';

export interface AdmissionOptions {
  /** The longest this call waits inline (for a slot or a Retry-After) before handing back to the queue. */
  maxInlineWaitMs: number;
  /**
   * With a fallback provider: once the primary has throttled this long, stop waiting and let the
   * fallback answer (the thrown error carries `throttledSince`).
   */
  fallbackAfterMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Asked once, when the call first holds a slot and is about to go out (AiOptions.admitCall). */
  admit?: () => Promise<void>;
}

/** How long a queue waits before trying again when the slots stayed taken. */
const BUSY_RETRY_MS = 1000;

/** Per logger (one per AI client): when its provider began rate limiting, until a call gets through. */
const rateLimitedSince = new WeakMap<Logger, number>();

/**
 * A 429 is logged once a minute (with `leftOut`), not once per call: a provider limiting every call
 * of a busy bot wrote a line a second per worker slot. The call that gets through says it is over.
 */
function logRateLimited(logger: Logger | undefined, fields: { status?: number; retryAfterMs: number }): void {
  if (!logger) return;
  if (!rateLimitedSince.has(logger)) rateLimitedSince.set(logger, Date.now());
  const leftOut = logSummaryOf(logger).take('AI provider rate limiting');
  if (leftOut !== undefined) logger.info({ ...fields, ...leftOutFields(leftOut) }, 'AI provider is rate limiting; waiting as it asked');
}

function logGotThrough(logger: Logger | undefined): void {
  const since = logger && rateLimitedSince.get(logger);
  if (since === undefined) return;
  rateLimitedSince.delete(logger!);
  logger!.info({ rateLimitedSeconds: Math.round((Date.now() - since) / 1000) }, 'AI provider no longer rate limiting: a call got through');
}

/** Run `call` under the adaptive limit, waiting out rate limits as the provider asks. */
export async function withinLimit<T>(limit: AdaptiveLimit, call: () => Promise<T>, options: AdmissionOptions): Promise<T> {
  const giveUpAt = Date.now() + options.maxInlineWaitMs;
  let admitted = options.admit === undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const admission = await limit.tryAcquire();
    if (!('token' in admission)) {
      const now = Date.now();
      const throttled = admission.throttledSince !== undefined;
      // Wait for the block to end, but no longer than the inline budget or the fallback's turn.
      const fallbackAt = throttled && options.fallbackAfterMs !== undefined ? admission.throttledSince! + options.fallbackAfterMs : Infinity;
      const wakeAt = Math.min(now + admission.waitMs, fallbackAt);
      if (wakeAt > giveUpAt || fallbackAt <= now) throw waitError(admission.waitMs, admission.throttledSince);
      await sleep(wakeAt - now, options.signal);
      continue;
    }
    if (!admitted) {
      // Only now is a call sure to go out: a refusal gives the slot back untouched ("failed" leaves the limit as it is).
      await options.admit!().catch(async (error: unknown) => {
        await limit.release(admission.token, { kind: 'failed' });
        throw error;
      });
      admitted = true;
    }
    try {
      const value = await call();
      logGotThrough(options.logger);
      // Not waited for: the answer is in hand, and the release leaves with the message's next
      // writes. A release that fails frees its slot when the lease runs out.
      limit.release(admission.token, { kind: 'ok' }).catch((error: unknown) => options.logger?.warn({ err: error }, 'could not release an AI slot; it frees itself when its lease ends'));
      return value;
    } catch (raw) {
      const error = toAiError(raw);
      if (error.kind === 'rate_limited' && error.retryable) {
        // "Retry-After: 0" (or a date already past) says nothing, as the openai SDK reads it: a busy
        // gateway sending it must not turn this into a loop without pause.
        // One asking for more than a day gets a day.
        const retryAfterMs = error.retryAfterMs !== undefined && error.retryAfterMs > 0 ? Math.min(error.retryAfterMs, MAX_THROTTLE_MS) : DEFAULT_THROTTLE_MS;
        await limit.release(admission.token, { kind: 'throttled', retryAfterMs });
        logRateLimited(options.logger, { status: error.status, retryAfterMs });
        continue;
      }
      await limit.release(admission.token, { kind: 'failed' });
      throw error;
    }
  }
}

function waitError(waitMs: number, throttledSince: number | undefined): AiError {
  if (throttledSince === undefined) {
    return new AiError('overloaded', 'Every AI slot stayed taken; trying again later', { retryAfterMs: Math.max(waitMs, BUSY_RETRY_MS) });
  }
  return new AiError('rate_limited', 'The AI provider is rate limiting; trying again when it said', { retryAfterMs: waitMs, throttledSince });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
