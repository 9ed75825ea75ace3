/**
 * What a failed Slack Web API call means for the queue: a 429, Slack not reachable at all (nothing
 * sent) or answering a 5xx (down for now), waits; a call that went out unanswered, or whose answer
 * is not Slack's JSON or is Slack's internal_error, may have been taken (MaybePostedError), as may
 * one a gateway answered 502 or 504 (a wait that says so); some refusals are permanent; a redirect
 * too (never followed); anything else is retried with backoff.
 */
import { MaybePostedError, PermanentError, RetryAfterError, isPlatformDown, notSentCode, platformDown, platformUnreachable, redirectOrigin, retryAfterMs, unreadableBody } from 'parley/adapter-kit';
import { slackWebApi } from './sdk.js';
import { MAYBE_TAKEN_REFUSALS, maybeTaken } from './stream-finish.js';
import { NOT_SLACK_JSON } from './web-api-options.js';

/** Errors that will not go away by trying again: the message is dead-lettered at once. */
const PERMANENT = new Set([
  'channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'account_inactive', 'token_revoked',
  'no_permission', 'missing_scope', 'msg_too_long', 'invalid_blocks', 'restricted_action', 'thread_not_found',
]);

/** Of those, refusals of this message's content: the conversation still takes another (the apology). */
const CONTENT_REFUSED = new Set(['msg_too_long', 'invalid_blocks']);

/** How long a 429 that names no wait is waited out: Slack's limits are per minute, a few seconds is a fair guess. */
const NO_RETRY_AFTER_WAIT_MS = 2000;

/**
 * A Web API call whose failures are told as the queue reads them: a 429, or Slack not reachable at
 * all, waits; some refusals are permanent; a refusal of the content is told as such
 * (`contentRefused`) only where `apologyOwed`.
 */
export async function classify<T>(fn: () => Promise<T>, apologyOwed = false): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const e = error as { code?: string; retryAfter?: number; data?: { error?: string; response_metadata?: { retryAfter?: number } }; statusCode?: number; headers?: Record<string, unknown> };
    const { ErrorCode } = slackWebApi();
    if (e.code === ErrorCode.RateLimitedError) throw new RetryAfterError('Slack rate limit', rateLimitWaitMs(e.retryAfter));
    // A 429 without a Retry-After the SDK can read (a proxy or gateway in front of the Web API): a plain Error from the SDK.
    if (/^Retry header did not contain a valid timeout/.test((error as Error | undefined)?.message ?? '')) throw new RetryAfterError('Slack rate limit (no Retry-After)', NO_RETRY_AFTER_WAIT_MS);
    // Not the Web API's JSON (a proxy's login page), or another status: told without the page (readable).
    const told = readable(error);
    if (told !== error) throw told;
    const refusal = e.code === ErrorCode.PlatformError ? e.data?.error : undefined;
    // `{ ok: false, error: 'ratelimited' }` with a 200 (a gateway's): a 429 all the same.
    if (refusal === 'ratelimited' || refusal === 'rate_limited') throw new RetryAfterError('Slack rate limit', rateLimitWaitMs(e.data?.response_metadata?.retryAfter));
    // Slack's docs of both: "it's possible some aspect of the operation succeeded before the error was raised".
    if (MAYBE_TAKEN_REFUSALS.has(refusal ?? '')) throw new MaybePostedError(`Slack answered ${refusal}; it may have taken the call`);
    const original = (error as { original?: unknown }).original;
    // A 2xx that is not JSON (web-api-options.ts): whatever answered may have passed the call on.
    if (e.code === ErrorCode.RequestError && (original as { code?: unknown } | undefined)?.code === NOT_SLACK_JSON) throw new MaybePostedError(`${(original as Error).message}; it may have taken the call`);
    // Gone without an answer after the request went out: Slack may have taken it.
    if (e.code === ErrorCode.RequestError && maybeTaken(original)) throw new MaybePostedError(`Slack did not answer: ${(error as Error).message}`, { cause: error });
    // Never went out (refused, unknown host): nothing was sent, so the job waits for Slack without spending an attempt.
    const notSent = e.code === ErrorCode.RequestError ? notSentCode(original) : undefined;
    if (notSent) throw platformUnreachable('the Slack Web API', notSent);
    if (e.code === ErrorCode.PlatformError && e.data?.error && PERMANENT.has(e.data.error)) {
      throw new PermanentError(`Slack refused the message: ${e.data.error}`, `slack_${e.data.error}`, apologyOwed && CONTENT_REFUSED.has(e.data.error));
    }
    throw error;
  }
}

/**
 * A Web API failure as it may be logged and kept: the SDK puts a body that is not JSON (a proxy's
 * page) whole in its error, and an HTTP error's body and headers, so such a failure is told
 * without them — a page that may have been taken (MaybePostedError), a status. Others as they are.
 */
export function readable(error: unknown): unknown {
  const e = error as { code?: string; data?: { error?: string }; statusCode?: number; headers?: Record<string, unknown> } | undefined;
  const { ErrorCode } = slackWebApi();
  const unreadable = e?.code === ErrorCode.PlatformError ? notSlackJson(e.data?.error) : undefined;
  if (unreadable) return new MaybePostedError(`Slack answered with ${unreadable}, not the Web API's JSON; it may have taken the call`);
  return e?.code === ErrorCode.HTTPError ? httpFailure(e.statusCode ?? 0, e.headers) : error;
}

/** A 429's wait: its Retry-After in seconds, or NO_RETRY_AFTER_WAIT_MS when that is negative or unreadable (a wait of none, again and again). */
export function rateLimitWaitMs(retryAfterSeconds: number | undefined): number {
  return typeof retryAfterSeconds === 'number' && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0 ? retryAfterSeconds * 1000 : NO_RETRY_AFTER_WAIT_MS;
}

/**
 * What an `{ ok: false }` error really was when it is no Slack error code: the SDK reports a body
 * it cannot parse as JSON that way, the whole body as `error`. Undefined for a Slack error code.
 */
function notSlackJson(error: unknown): string | undefined {
  return typeof error !== 'string' || /^[a-z0-9_]{1,100}$/i.test(error) ? undefined : unreadableBody(error);
}

/**
 * A non-200 answer: a 5xx is Slack down for now, a wait (as its Retry-After says, if it says; a
 * gateway's 502 or 504 may have passed a post on: looked for first); a 3xx is never followed and
 * would meet every retry; anything else is retried. Which call it was is not known here: any
 * 502 or 504 is told as maybe taken, which only a post's retry reads.
 */
function httpFailure(status: number, headers: Record<string, unknown> | undefined): Error {
  if (isPlatformDown(status)) return platformDown('the Slack Web API', status, { posting: true, retryAfterMs: retryAfterMs(headers) });
  if (status < 300 || status >= 400) return new Error(`Slack answered HTTP ${status}`);
  return new PermanentError(`Slack answered HTTP ${status} redirecting to ${redirectOrigin(headers?.location)}; redirects are not followed. Fix: set SLACK_API_URL to the Web API's own address`, 'slack_redirect');
}
