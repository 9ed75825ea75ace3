/**
 * Whether the bot has started, for `/readyz`. Serving does not wait for it: with Redis
 * unreachable, starting takes seconds, and `/healthz` must answer all along.
 */
import type { Logger } from 'pino';
import type { JobQueue } from './queue/index.js';
import type { Store } from './store/index.js';

export interface StartTracker {
  /** Runs `run` once; later calls return the same promise. */
  start(): Promise<void>;
  /** `starting`, `ok`, or `failed: <reason>`. */
  state(): string;
}

export function trackStart(run: () => Promise<void>, logger: Logger): StartTracker {
  let started: Promise<void> | undefined;
  let state = 'starting';
  return {
    start: () =>
      (started ??= run().then(
        () => void (state = 'ok'),
        (error: unknown) => {
          state = `failed: ${(error as Error).message}`;
          logger.error({ err: error }, 'bot failed to start');
          throw error;
        },
      )),
    state: () => (started ? state : 'not started'),
  };
}

/** The checks `/readyz` reports; `start` is among them until the bot has started. */
export function readiness<T>(store: Store, queue: JobQueue<T>, tracker: StartTracker): () => Promise<Record<string, string>> {
  return async () => {
    // A start with nothing to wait for (no Redis) settles within this turn: report it as started.
    await Promise.race([tracker.start().catch(() => undefined), new Promise((resolve) => setImmediate(resolve))]);
    const checks = {
      store: await store.ping().then(() => 'ok', (e: unknown) => `down: ${(e as Error).message}`),
      queue: await queue.ping().then(() => 'ok', (e: unknown) => `down: ${(e as Error).message}`),
    };
    const state = tracker.state();
    return state === 'ok' ? checks : { ...checks, start: state };
  };
}
