/**
 * Intercom API failures → what the queue should do: a 429 waits (Retry-After, or the
 * X-RateLimit-Reset epoch), a 5xx is Intercom down for now, a wait too (no attempt spent; a reply
 * a gateway answered 502 or 504 is looked for first), a lost connection is retried with backoff,
 * and a 4xx such as "conversation not found" goes straight to the dead letters. (A reply that went
 * out and got no answer comes here as MaybePostedError, and a call that never went out, Intercom
 * not reachable, as a wait, RetryAfterError: both from unanswered.ts, passed on as they are.)
 */
import { PermanentError, RetryAfterError, isPlatformDown, platformDown, retryAfterMs as readRetryAfter } from 'parley/adapter-kit';

/** Used when a 429 says nothing about when to come back (Intercom's windows are 10 s long). */
const DEFAULT_RETRY_AFTER_MS = 2000;
/** Statuses that can succeed later: timeout and conflict. */
const RETRYABLE_4XX = new Set([408, 409]);

interface SdkError {
  statusCode?: number;
  body?: unknown;
  rawResponse?: { headers?: { get(name: string): string | null } };
}

/** The error to throw for a failed call; `what` names the call in the message, `posting` says it posts (a reply). */
export function classifyIntercomError(error: unknown, what: string, now = Date.now(), posting = false): Error {
  const { statusCode: status, body, rawResponse } = (error ?? {}) as SdkError;
  if (typeof status !== 'number') return error instanceof Error ? error : new Error(String(error)); // timeout, connection: retried
  const code = errorCode(body);
  const described = `Intercom answered ${status}${code ? ` (${code})` : ''} to ${what}`;
  if (status === 429) return new RetryAfterError(described, retryAfterMs(rawResponse?.headers, now));
  if (isPlatformDown(status)) {
    const retryAfter = readRetryAfter(rawResponse?.headers, { now });
    return platformDown(`the Intercom API (${what})`, status, { posting, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) });
  }
  if (RETRYABLE_4XX.has(status)) return new Error(described);
  if (status >= 400) return new PermanentError(described, `intercom_${code ?? status}`);
  return error instanceof Error ? error : new Error(described);
}

/** The least a 429 waits: a reset a few milliseconds ahead (clocks apart) would otherwise retry at once, again and again. */
const MIN_RETRY_AFTER_MS = 1000;

/** How long a 429 asks us to wait: Retry-After (seconds or a date), else X-RateLimit-Reset (epoch seconds); at least a second. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, now = Date.now()): number {
  return Math.max(readRetryAfter(headers, { now, resetHeader: 'x-ratelimit-reset' }) ?? DEFAULT_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS);
}

/** Intercom's error list: `{ type: 'error.list', errors: [{ code, message }] }`. */
function errorCode(body: unknown): string | undefined {
  const first = (body as { errors?: { code?: unknown }[] } | undefined)?.errors?.[0]?.code;
  return typeof first === 'string' && /^[a-z0-9_]{1,64}$/i.test(first) ? first : undefined;
}
