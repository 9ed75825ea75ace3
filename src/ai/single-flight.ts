interface Flight<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

export interface Shared<T> {
  value: T;
  /** False for the caller that started the work, true for those who joined it. */
  shared: boolean;
}

/**
 * Identical calls in flight at the same time share one execution. The work runs on its own
 * signal, aborted only when every waiter has given up, so one impatient caller cannot fail the rest.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** Run `work` for `key`, or join the run already in flight. */
  run(key: string, work: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<Shared<T>> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let flight = this.flights.get(key);
    const shared = flight !== undefined;
    if (!flight) {
      const controller = new AbortController();
      const created: Flight<T> = {
        controller,
        waiters: 0,
        promise: work(controller.signal).finally(() => {
          if (this.flights.get(key) === created) this.flights.delete(key);
        }),
      };
      this.flights.set(key, created);
      flight = created;
    }
    return this.wait(key, flight, shared, signal);
  }

  /** Calls currently in flight (for tests and metrics). */
  get size(): number {
    return this.flights.size;
  }

  private wait(key: string, flight: Flight<T>, shared: boolean, signal?: AbortSignal): Promise<Shared<T>> {
    flight.waiters++;
    return new Promise<Shared<T>>((resolve, reject) => {
      let left = false;
      const leave = () => {
        if (left) return false;
        left = true;
        flight.waiters--;
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = () => {
        if (!leave()) return;
        if (flight.waiters === 0) {
          // Nobody wants the answer any more: stop paying for it, and let a new caller start afresh.
          if (this.flights.get(key) === flight) this.flights.delete(key);
          flight.controller.abort(signal?.reason);
        }
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => leave() && resolve({ value, shared }),
        (error: unknown) => leave() && reject(error),
      );
    });
  }
}
