/**
 * Writes a job starts and waits for only before it ends (a reply's markers): on Redis they then
 * leave with the job's next writes instead of costing a round trip of their own. A failure still
 * fails the job, once everything before it is done.
 */
export class PendingWrites {
  private readonly writes: Promise<void>[] = [];
  private failure: { error: unknown } | undefined;

  add(write: Promise<unknown>): void {
    // Caught at once, so a failure is never an unhandled rejection; settled() throws the first.
    const failed = (error: unknown) => void (this.failure ??= { error });
    this.writes.push(write.then(() => undefined, failed));
  }

  /** Resolves once every write is done; throws the first failure. */
  async settled(): Promise<void> {
    await Promise.all(this.writes);
    if (this.failure) throw this.failure.error;
  }
}
