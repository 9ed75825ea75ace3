/**
 * Many workspaces: what the worker reads and writes of the installations (before the AI is asked,
 * as a reply is posted, a token's refresh) goes to the store that waits out a short Redis stall
 * (AdapterContext.markerStore); what an acknowledgement reads, to the one that fails fast. A read
 * that failed fast after the AI had answered would fail the reply, and its retry ask the AI again.
 * One WorkspaceTokens serves both sides (one cache, one refresh per process): a call made through
 * `onWorker` is the worker's, and so is everything it starts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Store } from 'parley/adapter-kit';

export class StoreSides {
  private readonly worker = new AsyncLocalStorage<true>();

  constructor(
    private readonly ingress: () => Store,
    private readonly patient: () => Store,
  ) {}

  /** The store for the call under way. */
  readonly store = (): Store => (this.worker.getStore() ? this.patient() : this.ingress());

  onWorker<T>(call: () => Promise<T>): Promise<T> {
    return this.worker.run(true, call);
  }
}
