/**
 * Whether the bot has started, for `/readyz`. Serving does not wait for it: with Redis
 * unreachable, starting takes seconds, and `/healthz` must answer all along.
 */
import type { Logger } from 'pino';
import type { Adapter } from './adapter.js';
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

/**
 * The store in memory while an adapter keeps there what a restart must not lose (Slack's OAuth
 * installations): one warning at start, since nothing else says so until the next restart.
 */
export function warnVolatileState(adapters: readonly Adapter[], store: Store, logger: Logger): void {
  if (store.volatile !== true) return;
  for (const adapter of adapters) {
    if (!adapter.lastingState) continue;
    logger.warn({ platform: adapter.platform }, `${adapter.lastingState} are kept in memory: they will not survive a restart. Set REDIS_URL (or DYNAMODB_TABLE_PREFIX) to keep them in a store that lasts`);
  }
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
