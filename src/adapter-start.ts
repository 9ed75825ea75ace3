/**
 * Starting adapters without holding anything up. Each adapter starts in the background and, when
 * its platform does not answer (Slack's auth.test, Intercom's GET /me), tries again with capped
 * exponential backoff and jitter. Serving never waits for it: `/readyz` names each adapter's
 * state, webhooks are still verified and queued, and the worker defers a job whose adapter is
 * not ready yet (WorkerDeps.adapterReady).
 */
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import type { Logger } from 'pino';
import type { Adapter, AdapterContext } from './adapter.js';
import { hideSecrets } from './secret-values.js';

/** What `/readyz` says about one adapter. */
export type AdapterState = 'starting' | 'ready' | `failed: ${string}`;

export interface StartBackoff {
  initialMs: number;
  maxMs: number;
}

/** 1 s, then about twice as long each time (decorrelated jitter), never more than a minute apart. */
export const DEFAULT_START_BACKOFF: StartBackoff = { initialMs: 1000, maxMs: 60_000 };

export interface AdapterStarts {
  /** Each adapter's state, by platform. */
  states(): Record<string, AdapterState>;
  isReady(platform: string): boolean;
  /** Resolves once every adapter has started; rejects if stopped before that. */
  allReady: Promise<void>;
  /** Stop retrying (on close). */
  stop(): void;
}

/** Start every adapter in the background, each retried on its own: one platform's outage never holds up another. */
export function startAdapters(
  adapters: readonly Adapter[],
  contextFor: (adapter: Adapter) => AdapterContext,
  logger: Logger,
  backoff: StartBackoff = DEFAULT_START_BACKOFF,
): AdapterStarts {
  const states = new Map<string, AdapterState>();
  const abort = new AbortController();
  const lostNow = (platform: string): AdapterState | undefined => {
    const lost = adapters.find((adapter) => adapter.platform === platform)?.lost?.();
    return lost && `failed: ${reasonOf(lost.slice('failed: '.length))}`; // its secrets hidden, as a start's reason
  };
  const starts = adapters.map(async (adapter) => {
    if (!adapter.start) return void states.set(adapter.platform, 'ready');
    states.set(adapter.platform, 'starting');
    await startOne(adapter, contextFor(adapter), states, logger.child({ platform: adapter.platform }), backoff, abort.signal);
  });
  const allReady = Promise.all(starts).then(() => undefined);
  allReady.catch(() => undefined); // a close before every adapter started is not an error to report
  return {
    // A started adapter may have lost its platform since (a connection of its own down): /readyz says so.
    states: () => Object.fromEntries([...states].map(([platform, state]) => [platform, (state === 'ready' && lostNow(platform)) || state])),
    isReady: (platform) => (states.get(platform) ?? 'ready') === 'ready',
    allReady,
    stop: () => abort.abort(),
  };
}

async function startOne(adapter: Adapter, context: AdapterContext, states: Map<string, AdapterState>, logger: Logger, backoff: StartBackoff, signal: AbortSignal): Promise<void> {
  // Unreferenced: a pending retry must not keep a closed bot's process alive.
  const policy = retry(handleAll, { backoff: new ExponentialBackoff({ initialDelay: backoff.initialMs, maxDelay: backoff.maxMs }) }).dangerouslyUnref();
  let failures = 0;
  policy.onRetry(({ delay, ...result }) => {
    failures++;
    const error = 'error' in result ? result.error : undefined;
    const state: AdapterState = `failed: ${reasonOf(error)}`;
    // One line per change of state, not one per attempt: an hour-long outage is one warning.
    if (states.get(adapter.platform) !== state) logger.warn({ err: error, retryInMs: Math.round(delay) }, 'adapter failed to start; retrying in the background');
    else logger.debug({ attempt: failures + 1, retryInMs: Math.round(delay) }, 'adapter still failing to start');
    states.set(adapter.platform, state);
  });
  await policy.execute(async ({ signal: aborted }) => {
    if (aborted.aborted) throw new Error('closed before the adapter started');
    await adapter.start?.(context);
  }, signal);
  states.set(adapter.platform, 'ready');
  if (failures > 0) logger.info({ failures }, 'adapter started after failing; its waiting jobs go ahead');
}

/** The first line of an error's message, short enough for a readiness answer, its secrets hidden (as in a log line: /readyz is not signed in). */
function reasonOf(error: unknown): string {
  const message = hideSecrets(error instanceof Error ? error.message : String(error));
  const line = message.split('\n')[0]?.trim() || 'unknown error';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
