/**
 * Whether the bot has started, for `/readyz`. Serving does not wait for it: with Redis
 * unreachable, starting takes seconds, and `/healthz` must answer all along.
 */
import type { Logger } from 'pino';
import type { Adapter } from './adapter.js';
import type { BudgetConfig } from './config.js';
import { LIMIT_NAMES, LIMIT_VARIABLES, type LimitName } from './ops/budget-limits.js';
import type { Tally } from './ops/tally.js';
import type { JobQueue } from './queue/index.js';
import type { Store } from './store/index.js';
import { hideSecrets } from './secret-values.js';
import { downReason } from './store/down-reason.js';
import { withTimeout } from './timeout.js';

/**
 * How long `/readyz` waits for a backend's ping. A Redis that accepts the connection but never
 * answers (stopped, swapping, a partition that drops packets) is down; the probe gets its 503.
 */
export const PING_TIMEOUT_MS = 2000;
/** How long `/readyz` waits for a start under way before it reports `start: starting`. */
const START_GRACE_MS = 1000;

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
          state = `failed: ${hideSecrets((error as Error).message)}`;
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

/**
 * Budgets counted in this process's memory: each process keeps its own spend, and a restart (a
 * deploy, a crash) starts the day's and the month's again at $0. Said once at start, as nothing
 * else shows it until the bill does.
 */
export function warnVolatileBudgets(budget: Pick<BudgetConfig, LimitName>, tally: Tally, logger: Logger): void {
  if (tally.volatile !== true) return;
  const set = LIMIT_NAMES.filter((name) => budget[name] !== undefined).map((name) => LIMIT_VARIABLES[name]);
  if (set.length === 0) return;
  logger.warn({ budgets: set }, 'AI budgets are counted in this process\'s memory: each process counts its own spend, and a restart starts the day and the month again at $0. Set REDIS_URL (or DYNAMODB_TABLE_PREFIX) to share the spend and keep it across restarts');
}

/**
 * The checks `/readyz` reports; `start` is among them until the bot has started. Once shutting
 * down (`stopping` gives the reason), that alone, at once: the probe's answer must not wait on a ping.
 */
export function readiness<T>(store: Store, queue: JobQueue<T>, tracker: StartTracker, stopping: () => string | undefined = () => undefined): () => Promise<Record<string, string>> {
  return async (): Promise<Record<string, string>> => {
    const stop = stopping();
    if (stop) return { shutdown: stop };
    // A start under way (a healthy Redis connects in milliseconds) gets a moment, so the first
    // probe after listen() reads the backends, not a connection still coming up; a slow one is
    // reported as `start: starting` rather than as a store that is down.
    let wait: NodeJS.Timeout | undefined;
    await Promise.race([tracker.start().catch(() => undefined), new Promise((resolve) => (wait = setTimeout(resolve, START_GRACE_MS)))]);
    clearTimeout(wait);
    const state = tracker.state();
    const [storeState, queueState] = await Promise.all([answered(() => store.ping()), answered(() => queue.ping())]);
    const checks = { store: storeState, queue: queueState };
    return state === 'ok' ? checks : { ...checks, start: state };
  };
}

/** 'ok', or 'down: <reason>' — within PING_TIMEOUT_MS either way (also parley_backend_up's check). */
export function answered(ping: () => Promise<void>): Promise<string> {
  return withTimeout(ping(), PING_TIMEOUT_MS, `no answer within ${PING_TIMEOUT_MS} ms`).then(
    () => 'ok',
    // ioredis' own deadline on a fail-fast connection may end the wait first.
    (error: unknown) => `down: ${downReason((error as Error).message)}`,
  );
}
