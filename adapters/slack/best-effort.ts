/**
 * A Web API call made after the ack that nobody waits for (an assistant thread's suggested prompts
 * or title): Slack will not send its event again, so a failure that may pass (a 429, a 5xx, a lost
 * connection) is tried again a couple of times, in place. The waits are short: on a function
 * frozen once it answers (Lambda) the work after the ack runs before the answer to Slack.
 */
import { RetryAfterError, waitOutRetryAfter } from 'parley/adapter-kit';
import { rateLimitWaitMs } from './classify.js';
import { slackWebApi } from './sdk.js';

/** A 429 asking for longer than this is not waited out: the call fails (a later event may try again). */
export const BEST_EFFORT_MAX_WAIT_MS = 5000;
/** Tries after the first. */
const RETRIES = 2;
/** The wait before trying again after a 5xx or a lost connection (Slack says nothing about those). */
const TRANSIENT_BACKOFF_MS = 500;
/** Slack's own `{ ok: false }` answers that mean "not now" rather than "no". */
const TRANSIENT_REFUSALS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** Slack's failure, told as one waitOutRetryAfter waits out. */
class TransientFailure extends RetryAfterError {
  constructor(readonly slackError: unknown, waitMs: number) {
    super(`Slack: ${(slackError as Error).message}`, waitMs);
  }
}

/** `call`, tried up to three times while it fails in a way that may pass; throws Slack's last failure. */
export async function tryBriefly<T>(call: () => Promise<T>, onWait?: (waitMs: number, error: unknown) => void): Promise<T> {
  try {
    return await waitOutRetryAfter(() => transientAsRetryAfter(call), {
      maxWaitMs: BEST_EFFORT_MAX_WAIT_MS,
      maxRetries: RETRIES,
      onWait: (waitMs, error) => onWait?.(waitMs, (error as TransientFailure).slackError),
    });
  } catch (error) {
    throw error instanceof TransientFailure ? error.slackError : error;
  }
}

async function transientAsRetryAfter<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const waitMs = transientWaitMs(error);
    throw waitMs === undefined ? error : new TransientFailure(error, waitMs);
  }
}

/** How long to wait before trying again after this failure; undefined when trying again would not help. */
function transientWaitMs(error: unknown): number | undefined {
  const e = error as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string } };
  const { ErrorCode } = slackWebApi();
  if (e.code === ErrorCode.RateLimitedError) return rateLimitWaitMs(e.retryAfter);
  if (e.code === ErrorCode.HTTPError && (e.statusCode ?? 0) >= 500) return TRANSIENT_BACKOFF_MS;
  if (e.code === ErrorCode.RequestError) return TRANSIENT_BACKOFF_MS;
  if (e.code === ErrorCode.PlatformError && TRANSIENT_REFUSALS.has(e.data?.error ?? '')) return TRANSIENT_BACKOFF_MS;
  return undefined;
}
