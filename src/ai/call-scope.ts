import { toAiError, type AbortCauses } from './classify.js';
import type { AiError } from './errors.js';

/** One logical AI call: the caller's signal plus an overall deadline that spans all retries. */
export class CallScope {
  readonly deadlineAt: number;
  /** Fires when the caller cancels or the deadline passes. */
  readonly signal: AbortSignal;
  private readonly deadline = new AbortController();
  private readonly timer: NodeJS.Timeout;
  /** Some attempt has shown text (a stream): the call must not run again, whatever ends it. */
  delivered = false;

  constructor(
    deadlineMs: number,
    private readonly callerSignal?: AbortSignal,
  ) {
    this.deadlineAt = Date.now() + deadlineMs;
    this.timer = setTimeout(() => this.deadline.abort(new Error('deadline')), deadlineMs);
    this.timer.unref();
    this.signal = callerSignal ? AbortSignal.any([callerSignal, this.deadline.signal]) : this.deadline.signal;
  }

  get remainingMs(): number {
    return this.deadlineAt - Date.now();
  }

  causes(): AbortCauses {
    return { callerAborted: this.callerSignal?.aborted === true, deadlinePassed: this.deadline.signal.aborted };
  }

  /** Classify an error, letting our own aborts explain it. */
  toError(error: unknown): AiError {
    return toAiError(error, this.causes());
  }

  /** Rejects as soon as the scope is aborted, so a caller never waits out a backoff sleep. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.signal.aborted) return Promise.reject(this.toError(this.signal.reason));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.toError(this.signal.reason));
      this.signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          this.signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          this.signal.removeEventListener('abort', onAbort);
          reject(this.toError(error));
        },
      );
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
