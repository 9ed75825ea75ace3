import { toAiError, type AbortCauses } from './classify.js';
import type { AiError } from './errors.js';
import { forwardAbort } from './abort.js';

/** One logical AI call: the caller's signal plus an overall deadline that spans all retries. */
export class CallScope {
  readonly deadlineAt: number;
  /** Fires when the caller cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** Aborted at the deadline, or when the caller cancels. */
  private readonly deadline = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private deadlinePassed = false;
  /** Some attempt has shown text (a stream): the call must not run again, whatever ends it. */
  delivered = false;
  /** A retry's backoff was cut to the time left: that retry could only start at the deadline. */
  backoffRanOut = false;

  /** Stops passing the caller's cancel on (dispose). */
  private readonly unfollowCaller: () => void;

  constructor(
    deadlineMs: number,
    private readonly callerSignal?: AbortSignal,
  ) {
    this.deadlineAt = Date.now() + deadlineMs;
    this.timer = setTimeout(() => {
      this.deadlinePassed = true;
      this.deadline.abort(new Error('deadline'));
    }, deadlineMs);
    this.timer.unref();
    // Not AbortSignal.any(): see abort.ts.
    this.signal = this.deadline.signal;
    this.unfollowCaller = callerSignal ? forwardAbort(callerSignal, this.deadline) : () => undefined;
  }

  /** Abort `controller` when this scope is aborted, until the returned function is called. */
  follow(controller: AbortController): () => void {
    return forwardAbort(this.signal, controller);
  }

  get remainingMs(): number {
    return this.deadlineAt - Date.now();
  }

  /**
   * Passes the deadline now, before its own timer has run, when a retry's backoff ran to it
   * (`backoffRanOut`: capped at the time left, the two come due in one tick, in either order) or
   * less than `marginMs` is left. Whether the scope is over.
   */
  expireIfDue(marginMs: number): boolean {
    if (!this.signal.aborted && (this.backoffRanOut || this.remainingMs < marginMs)) {
      this.deadlinePassed = true;
      this.deadline.abort(new Error('deadline'));
    }
    return this.signal.aborted;
  }

  causes(): AbortCauses {
    return { callerAborted: this.callerSignal?.aborted === true, deadlinePassed: this.deadlinePassed };
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
    this.unfollowCaller();
  }
}
