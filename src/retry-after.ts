/**
 * "Come back later", read and waited out. A platform's 429 (or 503) says how long to wait in
 * `Retry-After` (delta-seconds or an HTTP date), sometimes `retry-after-ms`, or only in a reset
 * time. A short wait is cheaper in place than a trip through the queue; a long one goes back to
 * the queue, which waits without holding a worker (RetryAfterError: no attempt is spent).
 */
import { RetryAfterError } from './adapter.js';

/** Headers as a fetch `Headers`, anything with `get`, or a plain object (lower-case names). */
export type HeaderSource = { get(name: string): string | null | undefined } | Record<string, unknown>;

/** A `Retry-After` value in milliseconds: delta-seconds or an HTTP date (a past date is 0). Undefined when unreadable. */
export function parseRetryAfter(value: string | number | null | undefined, now = Date.now()): number | undefined {
  const text = typeof value === 'number' ? String(value) : (value ?? '').trim();
  if (text === '') return undefined;
  const seconds = Number(text);
  // A number is never a date (Date.parse reads "-3" as a year); a negative one is garbage.
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const date = Date.parse(text);
  // Clock skew must not turn into a negative wait.
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface RetryAfterOptions {
  now?: number | undefined;
  /** Also read this header as a reset time in epoch seconds (Intercom's `x-ratelimit-reset`). */
  resetHeader?: string | undefined;
}

/**
 * How long a response asks us to wait: `retry-after-ms`, then `Retry-After`, then the reset
 * header if named. Undefined when none says; the caller picks its platform's default.
 */
export function retryAfterMs(headers: HeaderSource | undefined | null, options: RetryAfterOptions = {}): number | undefined {
  if (!headers) return undefined;
  const now = options.now ?? Date.now();
  const ms = Number(header(headers, 'retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const wait = parseRetryAfter(header(headers, 'retry-after'), now);
  if (wait !== undefined || !options.resetHeader) return wait;
  const reset = Number(header(headers, options.resetHeader) ?? NaN);
  // A reset already past (the sender's clock behind ours) says nothing about how long: the caller's default.
  return Number.isFinite(reset) && reset * 1000 > now ? reset * 1000 - now : undefined;
}

function header(headers: HeaderSource, name: string): string | undefined {
  const value = typeof headers.get === 'function' ? (headers.get as (name: string) => unknown)(name) : (headers as Record<string, unknown>)[name];
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return typeof value === 'number' ? String(value) : undefined;
}

export interface InlineWaitOptions {
  /** A wait longer than this goes back to the queue at once (default 10 s). */
  maxWaitMs?: number | undefined;
  /** Waits in place before giving the call to the queue anyway (default 3). */
  maxRetries?: number | undefined;
  /** Told before each wait (for a log line). */
  onWait?(waitMs: number, error: RetryAfterError): void;
}

/** Short waits are worth holding a worker for; longer ones are the queue's. */
export const MAX_INLINE_WAIT_MS = 10_000;
const MAX_INLINE_RETRIES = 3;

/**
 * Run `call`; when it throws a RetryAfterError asking for a short wait, wait and call again (a
 * bounded number of times). Any other error, a wait too long, or one that is the queue's only
 * (`inPlace: false`, or a call that may have been taken), is thrown for the queue.
 */
export async function waitOutRetryAfter<T>(call: () => Promise<T>, options: InlineWaitOptions = {}): Promise<T> {
  const maxWaitMs = options.maxWaitMs ?? MAX_INLINE_WAIT_MS;
  const maxRetries = options.maxRetries ?? MAX_INLINE_RETRIES;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof RetryAfterError) || error.inPlace === false || error.maybePosted === true || error.retryAfterMs > maxWaitMs || attempt >= maxRetries) throw error;
      options.onWait?.(error.retryAfterMs, error);
      await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
    }
  }
}
