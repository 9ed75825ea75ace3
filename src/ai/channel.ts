import { forwardAbort } from './abort.js';

/** A channel for one streamed call, and a signal that aborts when the caller's does or the reader stops reading. */
export function openChannel(callerSignal?: AbortSignal): { channel: TextChannel; signal: AbortSignal } {
  const readerGone = new AbortController();
  // Not AbortSignal.any() (see abort.ts); the caller's signal is let go of when the call settles.
  const release = callerSignal ? forwardAbort(callerSignal, readerGone) : undefined;
  const channel = new TextChannel(() => readerGone.abort(new Error('stream reader stopped')), release);
  return { channel, signal: readerGone.signal };
}

/**
 * A one-producer, one-consumer queue of text chunks. The producer runs eagerly (so awaiting only
 * the final result works too) and the consumer reads at its own pace.
 */
export class TextChannel implements AsyncIterable<string> {
  private readonly buffer: string[] = [];
  private waiting: (() => void) | undefined;
  private done = false;
  private failure: { error: unknown } | undefined;
  private consumed = false;

  constructor(
    private readonly onCancel: () => void,
    private readonly onSettled?: () => void,
  ) {}

  push(chunk: string): void {
    if (this.done) return;
    this.buffer.push(chunk);
    this.wake();
  }

  end(): void {
    this.done = true;
    this.wake();
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.failure = { error };
    this.done = true;
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.consumed) throw new Error('A stream can be read only once');
    this.consumed = true;
    let finished = false;
    try {
      for (;;) {
        const chunk = this.buffer.shift();
        if (chunk !== undefined) {
          yield chunk;
          continue;
        }
        if (this.failure) throw this.failure.error;
        if (this.done) {
          finished = true;
          return;
        }
        await new Promise<void>((resolve) => (this.waiting = resolve));
      }
    } finally {
      // The reader stopped early (break, or its own error): nobody wants the rest, stop the call.
      if (!finished && !this.failure) this.onCancel();
    }
  }

  /** End the channel when `work` settles (fail it when `work` fails); the returned promise is `work`'s. */
  settle<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      (value) => {
        this.end();
        return value;
      },
      (error: unknown) => {
        this.fail(error);
        throw error;
      },
    );
    // A caller reading only the chunks sees the error there; don't also report it as unhandled.
    settled.catch(() => undefined).finally(() => this.onSettled?.());
    return settled;
  }

  private wake(): void {
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.();
  }
}
