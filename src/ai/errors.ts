import { ErrorCode, ParleyError, sameKind } from '../errors.js';
import { outputLimitTooLarge } from './context-length.js';

/**
 * Why an AI call failed; also a metric label, and (as `ai_<kind>`) a dead letter's reason: the
 * metrics know each from this list, so a new kind is added here only.
 */
export const AI_ERROR_KINDS = [
  'timeout', // one attempt took longer than attemptTimeoutMs
  'rate_limited', // 429, or 503 with Retry-After: waited out, never a failure
  'quota', // 429 insufficient_quota: no wait will help until someone pays
  'server', // 5xx, 409
  'connection', // DNS, refused, reset, a stream cut mid-answer
  'empty', // a 200 with no text (a reasoning model that spent its output tokens thinking): nothing to show
  'content_filtered', // the provider's filter withheld the answer (finish_reason content_filter, no text) or refused the prompt (Azure's 400 content_filter): final
  'circuit_open', // failing fast: the provider failed too often lately
  'overloaded', // every concurrency slot stayed taken for longer than a call may wait inline
  'client', // 400/401/403/404/422: retrying cannot help
  'deadline', // the overall deadline passed
  'aborted', // the caller cancelled
  'unknown',
] as const;

export type AiErrorKind = (typeof AI_ERROR_KINDS)[number];

export interface AiErrorDetails {
  /** Defaults by kind: transient kinds are retryable, 'client', 'content_filtered', 'aborted' and 'unknown' are not. */
  retryable?: boolean;
  /** HTTP status, when the server answered. */
  status?: number;
  /** How long the server asked us to wait (Retry-After), so a queue can schedule the next try. */
  retryAfterMs?: number;
  /** For 'rate_limited': when the provider's current stretch of throttling began (epoch ms). */
  throttledSince?: number;
  cause?: unknown;
}

/**
 * Failures that say the provider is unwell: these open the circuit and are retried within a call.
 * A rate limit is not one of them: the provider is healthy and has said when to come back.
 */
const providerKinds: ReadonlySet<AiErrorKind> = new Set(['timeout', 'server', 'connection']);
/** Transient failures: trying again later (e.g. a queue retry) may well succeed. */
// An empty answer is retried like a bad response, but says nothing about the provider's health (no breaker).
const retryableKinds: ReadonlySet<AiErrorKind> = new Set([...providerKinds, 'empty', 'rate_limited', 'circuit_open', 'overloaded', 'deadline']);
/** "Not now" rather than "failed": a queue waits these out without spending an attempt. */
const waitKinds: ReadonlySet<AiErrorKind> = new Set(['rate_limited', 'circuit_open', 'overloaded']);

/**
 * An AI stream's failure, as its consumer (an adapter's `stream`, or the core collecting a reply)
 * passes it on when none of the text reached the user: retryable again if it was before the text
 * began. The AI client made it final because text had gone out of it; it had not gone further.
 */
export function nothingShown(error: unknown): unknown {
  return error instanceof AiError && error.beforeText ? error.beforeText : error;
}

/**
 * An AI stream's failure after some of its text reached the user, as a consumer passes it on that
 * takes that text back before a retry shows its new answer (Slack deletes the broken message once
 * the retry's answer begins): retryable again, as with `nothingShown`. Not so for a call that ran
 * out of its deadline (an answer longer than AI_DEADLINE_MS allows would break off again, billed
 * each time): that failure stays final, and the text shown stays.
 */
export function shownTextTakenBack(error: unknown): unknown {
  const before = error instanceof AiError ? error.beforeText : undefined;
  return before !== undefined && before.kind !== 'deadline' ? before : error;
}

/** An AI call that failed for good (after retries, or at once when retrying cannot help). */
export class AiError extends ParleyError {
  static override [Symbol.hasInstance] = sameKind(AiError, (e) => e.code === ErrorCode.Ai && typeof e.kind === 'string');
  /** Worth trying again later; the client has already retried what it could within its deadline. */
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly throttledSince?: number;

  constructor(
    readonly kind: AiErrorKind,
    message: string,
    details: AiErrorDetails = {},
  ) {
    super(ErrorCode.Ai, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AiError';
    this.retryable = details.retryable ?? retryableKinds.has(kind);
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.throttledSince !== undefined) this.throttledSince = details.throttledSince;
  }

  /** Whether this says "try later" (a rate limit, an open circuit) rather than "this failed". */
  get isWait(): boolean {
    return this.retryable && waitKinds.has(this.kind);
  }

  /**
   * The same failure as it was before a stream's text began to come: set on the `final()` copy,
   * so what consumes the stream can undo the finality when none of that text reached the user.
   */
  beforeText?: AiError;

  /** The same error, marked as not worth retrying (e.g. a stream that already sent text). */
  final(): AiError {
    if (!this.retryable) return this;
    const final = new AiError(this.kind, this.message, { ...this.details(), retryable: false });
    // Not enumerable: a logged error does not carry itself twice.
    Object.defineProperty(final, 'beforeText', { value: this, enumerable: false });
    return final;
  }

  /** Whether this failure says the provider is unhealthy (and so counts towards opening the circuit). */
  get countsAsProviderFailure(): boolean {
    return providerKinds.has(this.kind);
  }

  private details(): AiErrorDetails {
    const details: AiErrorDetails = { cause: this.cause };
    if (this.status !== undefined) details.status = this.status;
    if (this.retryAfterMs !== undefined) details.retryAfterMs = this.retryAfterMs;
    if (this.throttledSince !== undefined) details.throttledSince = this.throttledSince;
    return details;
  }
}

/**
 * The provider refused the request as longer than the model reads (OpenAI's 400
 * `context_length_exceeded`; compatible servers say it in words), or as larger than it takes: any
 * 413, whatever its body (nginx's "Request Entity Too Large" page; Groq's request over its tokens a
 * minute). Only a smaller request can pass either. Not an output limit the model cannot give
 * (OPENAI_MAX_OUTPUT_TOKENS at or above its context): no shorter request passes that.
 */
export function isInputTooLong(error: unknown): boolean {
  if (!(error instanceof AiError) || error.kind !== 'client' || (error.status !== 400 && error.status !== 413)) return false;
  if (error.status === 413) return true;
  if (outputLimitTooLarge(error.message)) return false;
  const cause = error.cause as { code?: unknown; type?: unknown } | undefined;
  if (cause?.code === 'context_length_exceeded' || cause?.type === 'exceed_context_size_error') return true;
  // vLLM, LiteLLM (ContextWindowExceededError), llama.cpp ("exceeds the available context size"),
  // Anthropic ("prompt is too long"), Gemini ("input token count … exceeds the maximum"), TGI.
  return /context[_ ]?(length|window|size)|maximum context|prompt is too long|input is too long|too many (input )?tokens|input token count.*exceeds|tokens \+ `?max_new_tokens`? must be/i.test(error.message);
}
