/**
 * What the person running parley sees and is told: traffic per minute, AI spend and budgets,
 * alerts, and the operator console over them. One object per bot; `createBot` wires it.
 */
import type { Logger } from 'pino';
import type { OwnRoute } from '../http/router.js';
import type { CircuitStateName } from '../ai/index.js';
import type { Config } from '../config.js';
import { consoleRoutes } from '../console/routes.js';
import type { ConversationLog } from '../conversation-log.js';
import type { JobData } from '../jobs.js';
import { isReplayable } from '../job-check.js';
import type { Metrics } from '../observe/index.js';
import { replayEvery, type JobQueue } from '../queue/index.js';
import type { Store } from '../store/index.js';
import { Activity } from './activity.js';
import { Alerts } from './alerts.js';
import { BudgetLimits } from './budget-limits.js';
import { Monitor } from './monitor.js';
import { Spend } from './spend.js';
import type { Tally } from './tally.js';
import { Breakers } from './breakers.js';

export { Alerts } from './alerts.js';
export { Spend } from './spend.js';
export { BudgetLimits } from './budget-limits.js';
export { BudgetedAiClient } from './budgeted-ai.js';
export { MemoryTally, RedisTally, type Tally } from './tally.js';

export interface OpsDeps {
  config: Config;
  tally: Tally;
  /** The worker's store (on Redis it waits out a short outage): alerts claim their episodes there. */
  store: Store;
  /** The store that fails fast in an outage: what the console reads, so it answers at once. */
  readStore: Store;
  queue: JobQueue<JobData>;
  /** The log the console reads (on Redis, on the connection that fails fast). */
  conversationLog: ConversationLog;
  metrics: Metrics;
  logger: Logger;
  /** The AI client's circuit (the client is built after the budgets it runs under). */
  circuit(): CircuitStateName;
}

export interface Ops {
  spend: Spend;
  /** The budgets' limits: the environment's, or those set in the console (shared through the store). */
  limits: BudgetLimits;
  alerts: Alerts;
  activity: Activity;
  monitor: Monitor;
  /** The operator console's routes. */
  routes: OwnRoute[];
  start(): void;
  /** End the console's live streams (first thing on close, so open pages do not hold the server). */
  endStreams(): void;
  /** Resolves once the AI spend being counted, this process's traffic since its last flush and the alerts being posted (their retries included) are done. */
  settled(): Promise<void>;
  /** Stop the checks, add the last counts, wait for alerts being posted. */
  stop(): Promise<void>;
}

export function createOps({ config, tally, store, readStore, queue, conversationLog, metrics, logger, circuit }: OpsDeps): Ops {
  const alerts = new Alerts({ webhookUrl: config.alerts.webhookUrl, store, readStore, metrics, logger: logger.child({ component: 'alerts' }) });
  // On the store that fails fast: an unreadable override leaves the last limits known, not a wait.
  const limits = new BudgetLimits(readStore, config.budget, logger.child({ component: 'budget' }));
  const spend = new Spend(tally, limits, alerts);
  const activity = new Activity(metrics, tally, logger);
  const breakers = new Breakers(tally, circuit);
  const monitor = new Monitor({ config: config.alerts, activity, alerts, spend, metrics, logger, circuit, breakers });
  const closing = new AbortController();
  const routes = consoleRoutes({
    adminToken: config.console.adminToken,
    trustProxy: config.trustProxy,
    activity,
    spend,
    limits,
    alerts,
    budget: config.budget,
    alertWebhook: Boolean(config.alerts.webhookUrl),
    counts: () => queue.counts(),
    breakers: () => breakers.summary(),
    conversationLog,
    deadLetters: {
      list: () => queue.deadLetters(),
      replay: (id) => replayOne(queue, id),
      ...(queue.dropDeadLetter ? { drop: (id: string) => queue.dropDeadLetter!(id) } : {}),
      replayAll: () => replayEvery(queue, isReplayable),
      purge: () => queue.purge(),
    },
    logger: logger.child({ component: 'console' }),
    sessions: readStore,
    ping: () => readStore.ping(),
    closing: closing.signal,
  });
  return {
    spend,
    limits,
    alerts,
    activity,
    monitor,
    routes,
    start() {
      activity.start();
      monitor.start();
    },
    async settled() {
      // The counts first: one that crosses a budget raises its alert as it ends. The traffic counted so far goes to
      // the shared minutes now (a frozen function's would land at its next invocation, in another minute, or never).
      await Promise.all([spend.settled(), activity.flush().catch(() => undefined)]);
      await alerts.settled();
    },
    endStreams() {
      closing.abort();
    },
    async stop() {
      closing.abort();
      monitor.stop();
      await activity.stop().catch(() => undefined);
      await alerts.stop();
    },
  };
}

/** One letter, unless it is not a parley job: replayed, it would only fail the same way again. */
async function replayOne(queue: JobQueue<JobData>, id: string): Promise<boolean | 'not_a_job'> {
  const letter = (await queue.deadLetters()).find((l) => l.id === id);
  if (letter && !isReplayable(letter)) return 'not_a_job';
  return queue.replay(id);
}
