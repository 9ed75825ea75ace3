/**
 * Work started and not waited for (an answer's spend count, an alert's webhook post), kept so that
 * whoever must wait for all of it can: a shutdown, or a Lambda function before it is frozen.
 */
export class UnderWay {
  private readonly promises = new Set<Promise<unknown>>();

  /** Keep `work` until it settles; returns it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.promises.add(work);
    void work.finally(() => this.promises.delete(work)).catch(() => undefined);
    return work;
  }

  /** Resolves once everything under way now has settled, failures included. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.promises]);
  }
}
