import { retryAfterMs as readRetryAfter } from '../retry-after.js';

/**
 * How long a server asked us to wait, from `retry-after-ms` (OpenAI, Azure) or the standard
 * `Retry-After` (delta-seconds or an HTTP date). Undefined when absent or unparsable.
 */
export function retryAfterMs(headers: Headers | undefined | null, now = Date.now()): number | undefined {
  return readRetryAfter(headers, { now });
}

/**
 * How long a 429 that names no Retry-After says to wait, from OpenAI's (and Groq's, and the
 * gateways copying them) `x-ratelimit-reset-requests` / `-tokens`: the larger reset of the limits
 * that refused the call. A limit refused it when its `x-ratelimit-remaining-*` is 0; with requests
 * left, it was the tokens (a request asking for more than remain). When nothing says which, the
 * smaller reset: coming back early costs one more 429, which says again. Undefined when neither
 * header is readable. Only for a 429: OpenAI sends these headers on every answer, a 500's too.
 * (The openai SDK reads only the Retry-After headers, and backs off 0.5 s to 8 s without them.)
 */
export function rateLimitResetMs(headers: Headers | undefined | null): number | undefined {
  if (!headers) return undefined;
  const reset = { requests: duration(headers.get('x-ratelimit-reset-requests')), tokens: duration(headers.get('x-ratelimit-reset-tokens')) };
  const remaining = { requests: headers.get('x-ratelimit-remaining-requests')?.trim(), tokens: headers.get('x-ratelimit-remaining-tokens')?.trim() };
  const refused: Array<number | undefined> = [];
  if (remaining.requests === '0') refused.push(reset.requests);
  if (remaining.tokens === '0' || (remaining.requests !== undefined && Number(remaining.requests) > 0)) refused.push(reset.tokens);
  const known = refused.filter((ms) => ms !== undefined);
  if (known.length > 0) return Math.max(...known);
  const positive = [reset.requests, reset.tokens].filter((ms) => ms !== undefined && ms > 0) as number[];
  return positive.length > 0 ? Math.min(...positive) : undefined;
}

const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, μs: 1e-3, ns: 1e-6 };
/** One part of a Go duration (`6m`, `3.5s`, `20ms`): its amount and its unit. */
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|μs|ns)/g;
const WHOLE_DURATION = new RegExp(`^(?:${DURATION_PART.source})+$`);
const TRY_AGAIN_IN = new RegExp(`\\btry again in ((?:${DURATION_PART.source})+)(?!\\w)`, 'i');

/** A Go duration as OpenAI writes it (`20ms`, `6m0s`, `1h2m3.5s`) in whole milliseconds; undefined when it is not one. */
export function duration(value: string | null | undefined): number | undefined {
  const text = value?.trim() ?? '';
  if (!WHOLE_DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) ms += Number(amount) * unitMs[unit!]!;
  return Math.ceil(ms);
}

/**
 * The wait a 429's message names in OpenAI's words, "Please try again in 9s" (`1.5s`, `250ms`,
 * `6m0s`: a Go duration), for a 429 whose headers name none: only that phrase, read whole, never
 * another number of the message (its limits, its counts). Undefined when it says no such thing.
 */
export function waitInMessage(message: string | undefined): number | undefined {
  const stated = TRY_AGAIN_IN.exec(message ?? '');
  return stated ? duration(stated[1]) : undefined;
}
