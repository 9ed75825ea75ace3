/**
 * What a failed Slack Web API call means for the queue: a 429, or Slack not reachable at all
 * (nothing sent), waits; a call that went out unanswered may have been taken (MaybePostedError);
 * some refusals are permanent; anything else is retried with backoff.
 */
import { MaybePostedError, PermanentError, RetryAfterError, notSentCode, platformUnreachable } from 'parley/adapter-kit';
import { slackWebApi } from './sdk.js';
import { maybeTaken } from './stream-finish.js';

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
    const e = error as { code?: string; retryAfter?: number; data?: { error?: string } };
    const { ErrorCode } = slackWebApi();
    if (e.code === ErrorCode.RateLimitedError) throw new RetryAfterError('Slack rate limit', (e.retryAfter ?? 1) * 1000);
    // A 429 without a Retry-After the SDK can read (a proxy or gateway in front of the Web API): a plain Error from the SDK.
    if (/^Retry header did not contain a valid timeout/.test((error as Error | undefined)?.message ?? '')) throw new RetryAfterError('Slack rate limit (no Retry-After)', NO_RETRY_AFTER_WAIT_MS);
    const original = (error as { original?: unknown }).original;
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
