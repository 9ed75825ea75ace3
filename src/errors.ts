/**
 * Every error parley throws on purpose is a ParleyError with a stable `code`, so callers can
 * branch on `error.code` rather than on messages or class identity (which two copies of the
 * package in one app would break). The codes are part of the public API: never rename one.
 */

export const ErrorCode = {
  /** A configuration value is missing or invalid; the message names the variable and the fix. */
  Config: 'parley_config_error',
  /** A request a client caused to fail (bad signature, malformed body...): answered with its status. */
  Http: 'parley_http_error',
  /** A signed payload that does not fit the adapter's schema. */
  InvalidPayload: 'parley_invalid_payload',
  /** Retrying cannot help: the message goes to the dead letters at once. */
  Permanent: 'parley_permanent_error',
  /** "Not now": the job waits as long as asked, without spending an attempt. */
  RetryAfter: 'parley_retry_after',
  /** An AI call failed (its `kind` says how). */
  Ai: 'parley_ai_error',
  /** The queue is shutting down and takes no new jobs. */
  QueueClosed: 'parley_queue_closed',
  /** An optional dependency (a platform SDK) is not installed. */
  MissingDependency: 'parley_missing_dependency',
  /** A post that failed after it went out: the platform may have taken it (see MaybePostedError). */
  MaybePosted: 'parley_maybe_posted',
  /** The queue's hold on a running job ran out (SQS: its visibility could not be renewed): another worker may have it. */
  LeaseLost: 'parley_lease_lost',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const codes = new Set<unknown>(Object.values(ErrorCode));

/**
 * `instanceof` for the classes the core branches on, by `code` as well as by class: an adapter
 * package with a copy of parley of its own throws that copy's classes, which a plain `instanceof`
 * would not know (a bad signature answered 503, a 429 retried at once). Applies to the class
 * that declares it only; its subclasses keep the plain check.
 */
export function sameKind(declaring: object, accepted: (value: { code?: unknown } & Record<string, unknown>) => boolean) {
  return function (this: object, value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return this === declaring && value instanceof Error && accepted(value as unknown as { code?: unknown } & Record<string, unknown>);
  };
}

/** The base class of parley's errors. */
export class ParleyError extends Error {
  static override [Symbol.hasInstance] = sameKind(ParleyError, (e) => codes.has(e.code));

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ParleyError';
  }
}

/** A request a user can cause to fail: bad signature, malformed body... Answered as small JSON. */
export class HttpError extends ParleyError {
  static override [Symbol.hasInstance] = sameKind(HttpError, (e) => (e.code === ErrorCode.Http || e.code === ErrorCode.InvalidPayload) && typeof e.status === 'number');
  constructor(
    readonly status: number,
    /** A short machine-readable reason, also a metric label: "bad_signature", "malformed_body". */
    readonly reason: string,
    message: string,
    code: ErrorCode = ErrorCode.Http,
  ) {
    super(code, message);
    this.name = 'HttpError';
  }

  /** Headers its answer carries besides the JSON error (a 503's Retry-After). */
  headers?: Record<string, string>;
}

/**
 * An error that must not be retried (a 400 from the AI, WhatsApp's 24-hour window, a poison
 * message): the job goes straight to the dead letters with this reason.
 */
export class PermanentError extends ParleyError {
  static override [Symbol.hasInstance] = sameKind(PermanentError, (e) => e.code === ErrorCode.Permanent);
  constructor(
    message: string,
    readonly reason: string = 'permanent',
    /**
     * The platform refused this message's content (too long, malformed blocks), not the
     * conversation: another message there, such as the apology, would still be taken.
     */
    readonly contentRefused = false,
  ) {
    super(ErrorCode.Permanent, message);
    this.name = 'PermanentError';
  }
}

/** An error that says how long to wait before trying again (a platform's 429, an open circuit). */
export class RetryAfterError extends ParleyError {
  static override [Symbol.hasInstance] = sameKind(RetryAfterError, (e) => e.code === ErrorCode.RetryAfter && typeof e.retryAfterMs === 'number');
  /**
   * false: never waited out in place (waitOutRetryAfter), only by the queue, which holds the job
   * without a worker. For a wait that is a guess rather than a platform's promise (a platform that
   * could not be reached): a worker must not sleep on it.
   */
  readonly inPlace: boolean;
  /**
   * true: the call went out and may have been taken all the same (a gateway's 502 or 504), as a
   * MaybePostedError may: the retry looks whether the platform has it before posting it again.
   * Such a wait is never waited out in place.
   */
  readonly maybePosted: boolean;
  /**
   * true: a platform's API answered a 5xx or could not be reached (platformDown,
   * platformUnreachable): the wait is counted in parley_platform_waits_total, an outage's metric.
   */
  readonly platformDown: boolean;
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options: { inPlace?: boolean | undefined; maybePosted?: boolean | undefined; platformDown?: boolean | undefined } = {},
  ) {
    super(ErrorCode.RetryAfter, message);
    this.name = 'RetryAfterError';
    this.maybePosted = options.maybePosted ?? false;
    this.platformDown = options.platformDown ?? false;
    this.inPlace = !this.maybePosted && (options.inPlace ?? true);
  }
}

/** A configuration error: one line per bad variable, naming it, the problem and the fix. */
export class ConfigError extends ParleyError {
  static override [Symbol.hasInstance] = sameKind(ConfigError, (e) => e.code === ErrorCode.Config);
  constructor(message: string) {
    super(ErrorCode.Config, message);
    this.name = 'ConfigError';
  }
}

/** An optional dependency is missing; the message names the `npm install` command. */
export class MissingDependencyError extends ParleyError {
  static override [Symbol.hasInstance] = sameKind(MissingDependencyError, (e) => e.code === ErrorCode.MissingDependency && typeof e.dependency === 'string');
  constructor(
    readonly dependency: string,
    what: string,
  ) {
    const names = dependency.split(' ');
    const needs = names.length === 1 ? `the "${dependency}" package, which is not installed` : `the packages ${names.map((n) => `"${n}"`).join(', ')}, which are not all installed`;
    super(ErrorCode.MissingDependency, `${what} needs ${needs}. Fix: npm install ${dependency}`);
    this.name = 'MissingDependencyError';
  }
}

/**
 * A post whose fate is unknown: it failed after the request went out (a timeout, a connection cut
 * before the answer), so the platform may have taken it. Retried like any failure; the core first
 * asks the adapter's `findPart` whether the platform has it, so it is not posted twice.
 */
export class MaybePostedError extends ParleyError {
  static override [Symbol.hasInstance] = sameKind(MaybePostedError, (e) => e.code === ErrorCode.MaybePosted);
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.MaybePosted, message, options);
    this.name = 'MaybePostedError';
  }
}

/** Whether a failed post may have been taken: a MaybePostedError, or a wait that says so (`maybePosted`). */
export function mayHaveBeenPosted(error: unknown): boolean {
  return error instanceof MaybePostedError || (error instanceof RetryAfterError && error.maybePosted === true);
}

/**
 * A post refused because the worker's hold on its job ran out (a polling SQS worker that could not
 * renew the message's visibility): another worker may be answering it now, and posts it instead.
 * Neither a failure nor a wait: the queue leaves the job to that worker.
 */
export class LeaseLostError extends ParleyError {
  static override [Symbol.hasInstance] = sameKind(LeaseLostError, (e) => e.code === ErrorCode.LeaseLost);
  constructor(message = "this worker's hold on the job ran out: another worker may have it now, so nothing more of it is posted here") {
    super(ErrorCode.LeaseLost, message);
    this.name = 'LeaseLostError';
  }
}
