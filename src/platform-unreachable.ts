/**
 * A platform's API that could not be reached at all — the connection refused, the host unknown, no
 * route, no connection made in time — was sent nothing: that is a wait, not a failure. The adapter
 * throws `platformUnreachable(...)`, a RetryAfterError the queue waits out (never a worker in
 * place: how long the platform stays away is a guess): the job spends no attempt, and tries again
 * until AI_MAX_WAIT_MS gives it up. (A request that went out and got no answer is another thing:
 * it may have been taken, MaybePostedError.) A platform that answered a 5xx is down for now in the
 * same way: `platformDown(...)`.
 */
import { RetryAfterError } from './errors.js';

/** How long a job waits before trying a platform it could not reach again. */
export const PLATFORM_UNREACHABLE_WAIT_MS = 5000;

/** Connection failures that happen before any byte of the request is sent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * The code of a connection failure that sent nothing, read from `error`, its `cause`s (fetch's
 * "fetch failed" keeps the socket's error there) or an AggregateError's errors (every address
 * tried); undefined when the failure is another one.
 */
export function notSentCode(error: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && NOT_SENT_CODES.has(e.code)) return e.code;
  const inner = e.cause !== undefined ? notSentCode(e.cause, depth + 1) : undefined;
  if (inner !== undefined || !Array.isArray(e.errors) || e.errors.length === 0) return inner;
  const codes = e.errors.map((each) => notSentCode(each, depth + 1));
  return codes.every((code) => code !== undefined) ? codes[0] : undefined;
}

/** The wait to throw when `what` (e.g. "the Slack Web API") could not be reached: `code` says how. */
export function platformUnreachable(what: string, code: string): RetryAfterError {
  // No "trying again in …": the wait grows with the outage (the line's retryAfterMs says it), and the
  // text is also the reason of the message given up at AI_MAX_WAIT_MS, which tries nothing again.
  return new RetryAfterError(`${what} could not be reached (${code}); nothing was sent`, PLATFORM_UNREACHABLE_WAIT_MS, { inPlace: false, platformDown: true });
}

/** The least a platform's own Retry-After on a 5xx is waited: a 0 (or a date past by our clock) would call again at once. */
const MIN_RETRY_AFTER_MS = 1000;

/** A gateway's failures (Bad Gateway, Gateway Timeout): it may have passed the request on before it failed. */
const MAYBE_TAKEN_STATUSES = new Set([502, 504]);

/** Whether an HTTP status says the platform is down for now (any 5xx). */
export function isPlatformDown(status: number): boolean {
  return status >= 500 && status <= 599;
}

export interface PlatformDownOptions {
  /**
   * The answer's own wait (a 503's Retry-After, in ms): waited as it says rather than guessed.
   * Undefined as `retryAfterMs(headers)` returns it for none (also under exactOptionalPropertyTypes).
   */
  retryAfterMs?: number | undefined;
  /**
   * The call posts something (a reply's part): a gateway's 502 or 504 may have passed it on, so the
   * wait is also `maybePosted` — the retry looks whether the platform has it before posting again.
   */
  posting?: boolean | undefined;
}

/**
 * The wait to throw when `what` (e.g. "the Slack Web API") answered `status`, a 5xx: the platform
 * is down for now, as one that could not be reached is. The job goes back to the queue without
 * spending an attempt, with the same growing waits, until AI_MAX_WAIT_MS gives it up. A
 * Retry-After (a 503's) is waited as it says, in place when short; a call that may have been taken
 * is never retried in place.
 */
export function platformDown(what: string, status: number, options: PlatformDownOptions = {}): RetryAfterError {
  const maybePosted = options.posting === true && MAYBE_TAKEN_STATUSES.has(status);
  const told = `${what} answered HTTP ${status}${maybePosted ? ' (it may have taken the call: looked for before it is posted again)' : ''}`;
  const asked = options.retryAfterMs === undefined ? undefined : Math.max(options.retryAfterMs, MIN_RETRY_AFTER_MS);
  if (asked !== undefined && !maybePosted) return new RetryAfterError(`${told}; waiting ${Math.round(asked / 1000)} s as its Retry-After says`, asked, { platformDown: true });
  // No "trying again in …", as platformUnreachable: the wait grows, and the text is also a given-up message's reason.
  return new RetryAfterError(`${told}; down for now`, asked ?? PLATFORM_UNREACHABLE_WAIT_MS, { inPlace: false, maybePosted, platformDown: true });
}

/**
 * Whether `error` is a wait for a platform down or not reachable (platformDown, platformUnreachable):
 * read by its field, so an adapter with a copy of parley of its own is counted too.
 */
export function isPlatformWait(error: unknown): boolean {
  return error instanceof RetryAfterError && (error as { platformDown?: unknown }).platformDown === true;
}

/**
 * A wait for something away for as long as no one can say (a platform not reachable, a Redis
 * refusing writes): held by the queue only, never by a worker in place, and grown with the outage
 * (failure.ts waitOrGiveUp).
 */
export function guessedWait(message: string): RetryAfterError {
  return new RetryAfterError(message, PLATFORM_UNREACHABLE_WAIT_MS, { inPlace: false });
}
