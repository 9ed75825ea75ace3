/**
 * The operator side's parts (budgets, alerts, traffic per minute) built from their classes, on
 * memory by default or on the store and tally a test gives; and the alert webhook's posts.
 */
import pino from 'pino';
import type { BudgetConfig } from '../../src/config.js';
import { createMetrics, type Metrics } from '../../src/observe/index.js';
import { Activity } from '../../src/ops/activity.js';
import { Alerts, type PostRetry } from '../../src/ops/alerts.js';
import type { LimitsSource } from '../../src/ops/budget-limits.js';
import { Spend } from '../../src/ops/spend.js';
import { MemoryTally, type Tally } from '../../src/ops/tally.js';
import { MemoryStore, type Store } from '../../src/store/index.js';
import type { FakeCallback } from '../fakes/callback-server.js';

export const quietLogger = pino({ level: 'silent' });

/** A failed alert post tried three times, 5 ms apart (not for a minute, as POST_RETRY does). */
export const QUICK_POST_RETRY: PostRetry = { attempts: 3, initialDelayMs: 5 };

export type Limits = Pick<BudgetConfig, 'dayUsd' | 'monthUsd' | 'tenantDayUsd' | 'tenantMonthUsd'>;

export interface OpsParts {
  metrics: Metrics;
  store: Store;
  tally: Tally;
  alerts: Alerts;
  spend: Spend;
  activity: Activity;
}

/** One process's budgets and alerts: `store` and `tally` shared with other "processes" when given. */
export function opsParts(options: { limits?: Limits | LimitsSource; webhookUrl?: string; store?: Store; tally?: Tally; postRetry?: PostRetry } = {}): OpsParts {
  const metrics = createMetrics();
  const store = options.store ?? new MemoryStore();
  const tally = options.tally ?? new MemoryTally();
  const alerts = new Alerts({ ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}), store, metrics, logger: quietLogger, postRetry: options.postRetry ?? QUICK_POST_RETRY });
  const spend = new Spend(tally, options.limits ?? {}, alerts);
  return { metrics, store, tally, alerts, spend, activity: new Activity(metrics, tally, quietLogger) };
}

/** What the alert webhook received: each post's JSON body. */
export function webhookPosts(webhook: FakeCallback): unknown[] {
  return webhook.calls.map((call) => JSON.parse(call.raw) as unknown);
}

/** The text of each post, in the order they came. */
export function postedTexts(webhook: FakeCallback): string[] {
  return webhook.calls.map((call) => (JSON.parse(call.raw) as { text: string }).text);
}

/** A counter's or gauge's value for `labels` from a metrics registry (undefined when never set). */
export async function metricValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))?.value;
}
