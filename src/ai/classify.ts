import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { isBrokenCircuitError } from 'cockatiel';
import { ResponseTooLargeError } from '../http/lean-fetch.js';
import { hideSecretsIn } from '../secret-values.js';
import { outputLimitTooLarge } from './context-length.js';
import { AiError, isInputTooLong, type AiErrorKind } from './errors.js';
import { rateLimitResetMs, retryAfterMs, waitInMessage } from './retry-after.js';

/** Which of our own signals had fired when the error surfaced: they explain aborts best. */
export interface AbortCauses {
  callerAborted?: boolean;
  deadlinePassed?: boolean;
  attemptTimedOut?: boolean;
}

/**
 * Turn anything thrown by the SDK, cockatiel or fetch into an AiError with a kind. The provider's
 * text in it (and in its cause) has any configured secret replaced by <hidden>: a provider may quote
 * the Authorization header back, and the message is logged and kept as the dead letter's reason.
 */
export function toAiError(error: unknown, causes: AbortCauses = {}): AiError {
  if (error instanceof AiError) return error;
  return hideSecretsIn(classify(error, causes));
}

function classify(error: unknown, causes: AbortCauses): AiError {
  // Our signals first: an abort surfaces as many different error types (SDK, DOMException, cockatiel).
  if (causes.callerAborted) return new AiError('aborted', 'AI call cancelled by the caller', { cause: error });
  if (causes.deadlinePassed) return new AiError('deadline', 'AI call deadline passed', { cause: error });
  if (causes.attemptTimedOut) return new AiError('timeout', 'AI call attempt timed out', { cause: error });

  if (isBrokenCircuitError(error)) {
    return new AiError('circuit_open', 'AI provider circuit is open: failing fast', { cause: error });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new AiError('timeout', 'AI request timed out', { cause: error });
  }
  if (error instanceof APIUserAbortError) return new AiError('aborted', 'AI call aborted', { cause: error });
  // leanFetch stopped reading a non-streamed answer larger than any chat completion: the server's fault.
  const tooLarge = causeOf(error, ResponseTooLargeError);
  if (tooLarge) return new AiError('server', `AI provider sent no chat completion: ${tooLarge.message}`, { cause: error });
  if (error instanceof APIConnectionError) {
    return new AiError('connection', `AI connection failed: ${error.message}`, { cause: error });
  }
  if (error instanceof APIError) return fromStatus(error);
  // The SDK parsing a body that is not the JSON it claims (a proxy's HTML page, a broken stream event).
  if (error instanceof SyntaxError) return new AiError('server', `AI provider sent a malformed answer: ${error.message}`, { cause: error });
  if (isConnectionFailure(error)) {
    return new AiError('connection', `AI connection failed: ${(error as Error).message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AiError('unknown', `AI call failed: ${message}`, { cause: error, retryable: false });
}

function fromStatus(error: APIError): AiError {
  // An error sent with a 200 (a stream's error event, or a body of its own) has no status; the one
  // its body states (vLLM, LiteLLM: `code: 400`) decides, so a refusal is not retried as a failure.
  const status = error.status ?? statedStatus(error.error);
  const headers = error.headers ?? undefined;
  // A 429 that names no wait may still say when its limit resets (OpenAI's x-ratelimit-reset-*),
  // or, with no such header either, in its message ("Please try again in 1.5s").
  const wait = retryAfterMs(headers) ?? (status === 429 ? (rateLimitResetMs(headers) ?? waitInMessage(error.message)) : undefined);
  const kind: AiErrorKind =
    status === undefined
      ? 'server' // an error sent with a 200, stating no status: the provider failed while answering
      : status === 429
        ? isQuotaExhausted(error)
          ? 'quota'
          : 'rate_limited'
        : status === 503 && wait !== undefined
          ? 'rate_limited' // "busy, come back then": a throttle, not an outage
          : status === 408
          ? 'timeout'
          : status === 409 || status >= 500
            ? 'server'
            : status >= 400
              ? 'client'
              : status >= 300 && status < 400
                ? 'client' // a redirect (not followed): only a change of OPENAI_BASE_URL helps
                : 'unknown';
  const details: ConstructorParameters<typeof AiError>[2] = { cause: error };
  if (status !== undefined) details.status = status;
  if (wait !== undefined) details.retryAfterMs = wait;
  // The server may say explicitly whether a retry makes sense (OpenAI sends x-should-retry).
  const shouldRetry = headers?.get('x-should-retry');
  if (shouldRetry === 'true') details.retryable = true;
  // A quota is never retried, whatever the server suggests: it ends only when someone pays.
  if (shouldRetry === 'false' || kind === 'quota') details.retryable = false;
  const answered = error.status === undefined ? '200 with an error' : String(status);
  // The SDK's message starts with the status ("500 <text>"): quoted whole, so the status and the text are said once (a log line leaves out a cause quoted).
  const said = error.status !== undefined && error.message.startsWith(`${error.status} `) ? error.message : `${answered}: ${error.message}`;
  // A 404 is a model the provider does not serve, or a base URL without its /v1: check tells which.
  const notFound = status === 404 ? ' (a model it does not serve, or a base URL without its /v1? `parley check` tells)' : '';
  // An output limit the model cannot give refuses every message, however short: a setting to change.
  const outputTooLarge = status === 400 && outputLimitTooLarge(error.message) ? ' (OPENAI_MAX_OUTPUT_TOKENS asks for more than the model gives: lower it)' : '';
  const message = `AI provider answered ${said}${redirectHint(error.status, headers)}${notFound}${outputTooLarge}`;
  // A prompt the provider's filter refused is refused again, whatever the server suggests: final, with its own apology.
  if (status === 400 && isPromptFiltered(error)) return new AiError('content_filtered', message, { ...details, retryable: false });
  const classified = new AiError(kind, message, details);
  // Nor is a request longer than the model reads (a 413 too): only a shorter one can pass, so it is final
  // here, and the history is shortened, then the user asked for a shorter message.
  return classified.retryable && isInputTooLong(classified) ? new AiError(kind, classified.message, { ...details, retryable: false }) : classified;
}

/** The 4xx or 5xx an error body sent with a 200 states in `code` or `status` (a number, or digits). */
function statedStatus(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  for (const value of [(body as { code?: unknown }).code, (body as { status?: unknown }).status]) {
    const status = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d{3}\s*$/.test(value) ? Number(value) : NaN;
    if (Number.isInteger(status) && status >= 400 && status <= 599) return status;
  }
  return undefined;
}

/**
 * A redirect is not followed: it would send the conversation to another host (and the key, where
 * the host is the same). Its target, without the query, tells the operator what to configure.
 */
function redirectHint(status: number | undefined, headers: Headers | undefined): string {
  if (status === undefined || status < 300 || status >= 400) return '';
  const location = headers?.get('location');
  let target = 'elsewhere';
  try {
    if (location) {
      const url = new URL(location, 'http://base.invalid');
      target = url.host === 'base.invalid' ? url.pathname : `${url.origin}${url.pathname}`;
    }
  } catch {
    // an unreadable Location says nothing more
  }
  return ` (a redirect to ${target}, not followed: point OPENAI_BASE_URL at the address it redirects to)`;
}

/**
 * Azure OpenAI refuses a prompt its content filter flags with a 400 `code: "content_filter"`
 * (`innererror.code: "ResponsibleAIPolicyViolation"`, its categories beside it: never the text).
 */
function isPromptFiltered(error: APIError): boolean {
  const inner = (error.error as { innererror?: { code?: unknown } } | undefined)?.innererror;
  return error.code === 'content_filter' || inner?.code === 'ResponsibleAIPolicyViolation';
}

/** OpenAI answers 429 with code or type "insufficient_quota" when the account is out of credit. */
function isQuotaExhausted(error: APIError): boolean {
  return error.code === 'insufficient_quota' || error.type === 'insufficient_quota';
}

/** undici reports a dropped connection while reading the body as a bare TypeError. */
function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  return /fetch failed|terminated|socket|ECONNRESET|other side closed/i.test(
    `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}`,
  );
}

/** The first error of type `type` in `error`'s chain of causes (the SDK wraps fetch's TypeError, which wraps the reason). */
function causeOf<T>(error: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (e instanceof type) return e;
  return undefined;
}
