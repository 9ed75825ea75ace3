/**
 * The parley_backend_up gauge: whether the store and the queue answer the check /readyz makes (a
 * write on Redis, within 2 s), refreshed on a timer by the bot, so an outage shows in Prometheus
 * and not only in a probe's 503. Its changes are logged too, once each way: a Redis paused, full
 * or read-only breaks no connection, so no "Redis unreachable" line said so, nor when it was over.
 */
import type { Logger } from 'pino';
import { answered } from './bot-start.js';
import type { Metrics } from './observe/index.js';
import type { JobQueue } from './queue/index.js';
import type { Store } from './store/index.js';

/** How often the backends are checked: the queue depth's period, within a scrape at any usual interval. */
export const BACKEND_CHECK_MS = 5000;

/** Each backend's check: 'ok' or 'down: <reason>', as /readyz says it. */
export type BackendStates = Record<'store' | 'queue', string>;

export async function updateBackendUp<T>(store: Store, queue: JobQueue<T>, metrics: Metrics): Promise<BackendStates> {
  const [storeState, queueState] = await Promise.all([answered(() => store.ping()), answered(() => queue.ping())]);
  metrics.backendUp.set({ backend: 'store' }, storeState === 'ok' ? 1 : 0);
  metrics.backendUp.set({ backend: 'queue' }, queueState === 'ok' ? 1 : 0);
  return { store: storeState, queue: queueState };
}

/**
 * Logs which backends are down when that changes: a warn line as it begins (or another goes down),
 * an info line when all answer again. A set of backends is told down once two checks in a row found
 * it so: a single failed check (a Lambda frozen mid-ping, a blip) is no outage worth a line.
 */
export function backendLog(logger: Logger): (states: BackendStates, now?: number) => void {
  let told = ''; // what the log last said is down ('' for nothing)
  let seen = ''; // what the last check found down
  let seenSince = 0;
  let since = 0;
  return (states, now = Date.now()) => {
    const failing = Object.entries(states).filter(([, state]) => state !== 'ok');
    const names = failing.map(([name]) => name).join(' and the ');
    if (names !== seen) seenSince = now;
    const again = names === seen;
    seen = names;
    if (names === told || (names && !again)) return;
    if (names) {
      since = told ? since : seenSince;
      logger.warn({ down: Object.fromEntries(failing) }, `not ready: the ${names} ${failing.length > 1 ? 'are down; /readyz answers 503 until they answer' : 'is down; /readyz answers 503 until it answers'}`);
    } else {
      logger.info({ downSeconds: Math.round((now - since) / 1000) }, `ready again: the ${told} answer${told.includes(' and ') ? '' : 's'} /readyz's check`);
    }
    told = names;
  };
}

/**
 * Check every BACKEND_CHECK_MS, one check at a time (not at once: the connections are still coming
 * up as the bot starts). The timer keeps no process alive (clearInterval it on close).
 */
export function refreshBackendUp<T>(store: Store, queue: JobQueue<T>, metrics: Metrics, logger: Logger): NodeJS.Timeout {
  const log = backendLog(logger);
  let checking = false;
  const check = () => {
    if (checking) return;
    checking = true;
    void updateBackendUp(store, queue, metrics)
      .then((states) => log(states))
      .finally(() => (checking = false));
  };
  return setInterval(check, BACKEND_CHECK_MS).unref();
}
