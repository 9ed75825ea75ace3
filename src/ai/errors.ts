/** Why an AI call failed; also a metric label. */
export type AiErrorKind =
  | 'timeout' // one attempt took longer than attemptTimeoutMs
  | 'rate_limited' // 429
  | 'server' // 5xx, 409
  | 'connection' // DNS, refused, reset
  | 'circuit_open' // failing fast: the provider failed too often lately
  | 'overloaded' // too many calls already waiting for a concurrency slot
  | 'client' // 400/401/403/404/422: retrying cannot help
  | 'deadline' // the overall deadline passed
  | 'aborted' // the caller cancelled
  | 'unknown';

export interface AiErrorDetails {
  /** Defaults by kind: transient kinds are retryable, 'client', 'aborted' and 'unknown' are not. */
  retryable?: boolean;
  /** HTTP status, when the server answered. */
  status?: number;
  /** How long the server asked us to wait (Retry-After), so a queue can schedule the next try. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** Failures that say the provider is unwell: these open the circuit and are retried within a call. */
const providerKinds: ReadonlySet<AiErrorKind> = new Set(['timeout', 'rate_limited', 'server', 'connection']);
/** Transient failures: trying again later (e.g. a queue retry) may well succeed. */
const retryableKinds: ReadonlySet<AiErrorKind> = new Set([...providerKinds, 'circuit_open', 'overloaded', 'deadline']);

/** An AI call that failed for good (after retries, or at once when retrying cannot help). */
export class AiError extends Error {
  /** Worth trying again later; the client has already retried what it could within its deadline. */
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(
    readonly kind: AiErrorKind,
    message: string,
    details: AiErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AiError';
    this.retryable = details.retryable ?? retryableKinds.has(kind);
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }

  /** The same error, marked as not worth retrying (e.g. a stream that already sent text). */
  final(): AiError {
    if (!this.retryable) return this;
    return new AiError(this.kind, this.message, { ...this.details(), retryable: false });
  }

  /** Whether this failure says the provider is unhealthy (and so counts towards opening the circuit). */
  get countsAsProviderFailure(): boolean {
    return providerKinds.has(this.kind);
  }

  private details(): AiErrorDetails {
    const details: AiErrorDetails = { cause: this.cause };
    if (this.status !== undefined) details.status = this.status;
    if (this.retryAfterMs !== undefined) details.retryAfterMs = this.retryAfterMs;
    return details;
  }
}
