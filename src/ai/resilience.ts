import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, retry, type CircuitBreakerPolicy } from 'cockatiel';
import { serverAwareBackoff } from './backoff.js';
import { CallScope } from './call-scope.js';
import { toAiError } from './classify.js';
import { AiError } from './errors.js';
import type { CircuitStateName } from './types.js';

/** A retry with less time than this before the deadline is not started: it could only be aborted. */
const MIN_RETRY_MS = 10;

export interface ResilienceSettings {
  attempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  attemptTimeoutMs: number;
  deadlineMs: number;
  breakerThreshold: number;
  breakerHalfOpenAfterMs: number;
}

/** What one HTTP attempt gets to work with. */
export interface Attempt {
  /** Aborts on the caller's cancel, the deadline, or this attempt's timeout. */
  signal: AbortSignal;
  /** 1 for the first try. */
  number: number;
  /** Restart the attempt timeout: a stream calls this on every chunk, so it limits silence, not length. */
  touch(): void;
  /** Output already reached the caller: a failure from now on must not be retried. */
  delivered(): void;
  /** A new HTTP request in this attempt (the next key after a refused one, reported apart): its latency counts from now. */
  nextRequest(): void;
}

export interface AttemptReport {
  durationMs: number;
  error?: AiError;
}

export interface RetryReport {
  error: AiError;
  delayMs: number;
  retry: number;
}

/**
 * retry(deadline) → circuit breaker → attempt timeout → the HTTP call. Rate limits are not
 * handled here: they pass straight out to the adaptive limit (see admission.ts), which waits them
 * out without spending this call's attempts or deadline, and they never count against the breaker.
 */
export class ResiliencePolicy {
  private readonly breaker: CircuitBreakerPolicy;
  private openedAt = 0;
  /** Since when the circuit has been open (through its half-open probes), for onCircuit's closing report. */
  private openSince: number | undefined;

  constructor(
    private readonly settings: ResilienceSettings,
    // onCircuit: once as the circuit opens (not again at each probe that fails), once as it closes.
    private readonly hooks: { onAttempt?(r: AttemptReport): void; onRetry?(r: RetryReport): void; onCircuit?(change: { open: boolean; openForMs: number }): void } = {},
  ) {
    // Only provider trouble opens the circuit; a 400 is our fault and says nothing about its health.
    const providerFailure = handleWhen((e) => e instanceof AiError && e.countsAsProviderFailure);
    const consecutive = new ConsecutiveBreaker(settings.breakerThreshold);
    this.breaker = circuitBreaker(providerFailure, { breaker: consecutive, halfOpenAfter: settings.breakerHalfOpenAfterMs });
    this.breaker.onBreak(() => {
      this.openedAt = Date.now();
      if (this.openSince !== undefined) return;
      this.openSince = this.openedAt;
      hooks.onCircuit?.({ open: true, openForMs: 0 });
    });
    // cockatiel closes the circuit when its probe ends in an error it does not count (a 400, a 429)
    // without resetting the count: the next single 5xx would open it again. A closed circuit starts from 0.
    this.breaker.onReset(() => {
      consecutive.success();
      if (this.openSince === undefined) return;
      hooks.onCircuit?.({ open: false, openForMs: Date.now() - this.openSince });
      this.openSince = undefined;
    });
  }

  /** The circuit as a readiness probe would describe it. */
  get circuit(): CircuitStateName {
    switch (this.breaker.state) {
      case CircuitState.Open:
        // cockatiel moves to half-open only when a call arrives; report that the next call will probe.
        return Date.now() - this.openedAt >= this.settings.breakerHalfOpenAfterMs ? 'half-open' : 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      case CircuitState.Isolated:
        return 'isolated';
      default:
        return 'closed';
    }
  }

  /** Run `fn` with retries, deadline, breaker and bulkhead; failures reject as AiError. */
  async execute<T>(fn: (attempt: Attempt) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const scope = new CallScope(this.settings.deadlineMs, signal);
    try {
      const policy = retry(
        handleWhen((e) => this.worthRetrying(e, scope)),
        {
          maxAttempts: Math.max(0, this.settings.attempts - 1),
          backoff: serverAwareBackoff(this.settings, scope.deadlineAt, () => (scope.backoffRanOut = true)),
        },
      );
      policy.onRetry((r) => {
        if ('error' in r && r.error instanceof AiError) {
          this.hooks.onRetry?.({ error: r.error, delayMs: r.delay, retry: r.attempt });
        }
      });
      const work = policy.execute(({ attempt }) => this.breaker.execute(() => this.attempt(fn, attempt + 1, scope)), scope.signal);
      return await scope.race(work);
    } catch (error) {
      // Text already went out (a stream): trying again here would show it twice. Final, unless what
      // consumes the stream says none of it reached the user (nothingShown), or that it takes that
      // text back before a retry's answer shows (shownTextTakenBack): then the queue asks again.
      throw this.withReopenTime(this.asLongWait(scope.delivered && error instanceof AiError ? error.final() : error));
    } finally {
      scope.dispose();
    }
  }

  /**
   * An open circuit says when it will let a probe through, so a queue can come back then. A failure
   * that left the circuit open (it opened it, or a probe failed) reads as circuit_open too: the
   * provider is down, and the message should wait for it rather than spend one of its attempts.
   */
  private withReopenTime(error: unknown): unknown {
    if (!(error instanceof AiError) || !error.retryable) return error; // a final failure stays final
    const leftOpen = error.countsAsProviderFailure && this.breaker.state === CircuitState.Open;
    if (!leftOpen && (error.kind !== 'circuit_open' || error.retryAfterMs !== undefined)) return error;
    const untilProbe = Math.max(100, this.openedAt + this.settings.breakerHalfOpenAfterMs - Date.now());
    const message = leftOpen ? `AI provider failing (${error.message}); circuit open` : error.message;
    return new AiError('circuit_open', message, { cause: leftOpen ? error : error.cause, retryAfterMs: untilProbe });
  }

  /**
   * A failure whose Retry-After is longer than a retry here may wait (maxBackoffMs) was not tried
   * again against the server's word: it is a "come back then", like a 503 with Retry-After. As a
   * rate limit it is waited out (new calls too) and the message waits without spending an attempt,
   * until AI_MAX_WAIT_MS gives it the apology; as a failure the queue would retry it within seconds.
   */
  private asLongWait(error: unknown): unknown {
    if (!(error instanceof AiError) || !error.retryable || error.isWait) return error;
    const retryAfterMs = error.retryAfterMs ?? 0;
    if (retryAfterMs <= this.settings.maxBackoffMs) return error;
    const details: ConstructorParameters<typeof AiError>[2] = { cause: error, retryAfterMs };
    if (error.status !== undefined) details.status = error.status;
    return new AiError('rate_limited', `${error.message} (it asked to wait ${Math.ceil(retryAfterMs / 1000)} s)`, details);
  }

  private worthRetrying(error: Error, scope: CallScope): boolean {
    if (!(error instanceof AiError) || !error.retryable || scope.signal.aborted) return false;
    if (error.kind === 'rate_limited') return false; // the adaptive limit outside waits it out
    // The same request would most likely spend its output budget the same way: the queue's attempts
    // (JOB_ATTEMPTS) are the retries, not AI_ATTEMPTS × JOB_ATTEMPTS whole output budgets.
    if (error.kind === 'empty') return false;
    const remaining = scope.remainingMs;
    if (remaining <= 0) return false;
    // If the server wants a longer pause than the deadline leaves, or than a retry may wait here,
    // fail now with its Retry-After rather than ask again early: the caller's queue reschedules.
    const serverWait = error.retryAfterMs ?? 0;
    return serverWait <= this.settings.maxBackoffMs && serverWait < remaining;
  }

  private async attempt<T>(fn: (attempt: Attempt) => Promise<T>, number: number, scope: CallScope): Promise<T> {
    // A retry whose backoff ran to the deadline (both due in one tick) is not sent only to be aborted.
    if (number > 1 && scope.expireIfDue(MIN_RETRY_MS)) throw scope.toError(scope.signal.reason);
    // A plain controller of the attempt's own, not AbortSignal.any() (see abort.ts): the SDK's
    // listener on a composite signal kept some 2 KB per AI call for the life of the process.
    const controller = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error('attempt timeout'));
      }, this.settings.attemptTimeoutMs);
    };
    const stopFollowing = scope.follow(controller);
    let started = performance.now();
    arm();
    try {
      const value = await fn({
        signal: controller.signal,
        number,
        touch: arm,
        delivered: () => {
          scope.delivered = true;
        },
        nextRequest: () => {
          started = performance.now();
        },
      });
      this.hooks.onAttempt?.({ durationMs: performance.now() - started });
      return value;
    } catch (raw) {
      let error = toAiError(raw, { ...scope.causes(), attemptTimedOut: timedOut });
      if (scope.delivered) error = error.final(); // text went out: trying again would show it twice
      this.hooks.onAttempt?.({ durationMs: performance.now() - started, error });
      throw error;
    } finally {
      clearTimeout(timer);
      stopFollowing();
    }
  }
}
