/**
 * Commands given up together when their owner stops, each let go of as soon as it settles. Not
 * `Promise.race([command, stopped])`: every race leaves a reaction on the `stopped` promise, which
 * stays pending for the owner's life, holding that command's result — a worker's intake pump races
 * each read (its entries), reclaim and count, and kept them all, growing with every message moved.
 */
export class GiveUp {
  private readonly waiting = new Set<(error: Error) => void>();
  private reason: Error | undefined;

  /** `command`'s outcome, or a rejection with the reason once `now` is called (at once if it was). */
  race<R>(command: Promise<R>): Promise<R> {
    if (this.reason) {
      command.catch(() => undefined);
      return Promise.reject(this.reason);
    }
    return new Promise<R>((resolve, reject) => {
      this.waiting.add(reject);
      void command.then(resolve, reject).finally(() => this.waiting.delete(reject));
    });
  }

  /** Give up every command racing now, and any raced later. */
  now(reason: Error): void {
    this.reason ??= reason;
    for (const reject of this.waiting) reject(this.reason);
    this.waiting.clear();
  }
}
