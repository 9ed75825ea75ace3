/**
 * The console's data: what each API route answers, built from the shared counters, the queue,
 * the budgets, the alerts and the conversation log.
 */
import type { BudgetConfig } from '../config.js';
import type { JobData } from '../jobs.js';
import { minuteCounts, replyQuantile, sumFields, type Activity } from '../ops/activity.js';
import type { Alerts } from '../ops/alerts.js';
import type { BudgetLimits } from '../ops/budget-limits.js';
import type { BreakerSummary } from '../ops/breakers.js';
import type { Spend } from '../ops/spend.js';
import type { DeadLetter, QueueCounts } from '../queue/index.js';
import type { BudgetStatus, BudgetsView, DeadLetterPage, DeadLetterView, Overview } from './api.js';
import { BUDGETS_PAGE, budgetPage, countedByState, type BudgetQuery } from './budget-page.js';
import { pageLimitOf } from './page-limit.js';

export interface ViewDeps {
  activity: Activity;
  spend: Spend;
  /** The limits in force and where each comes from (the environment, or the console). */
  limits: BudgetLimits;
  alerts: Alerts;
  budget: BudgetConfig;
  alertWebhook: boolean;
  counts(): Promise<QueueCounts>;
  /** Every process's AI circuit breaker, as reported to the shared counters. */
  breakers(): Promise<BreakerSummary>;
}

const HOUR = 60;
/**
 * The overview goes to every open console every 2 s: it names this many tenants (the most spent)
 * and this many tenant budgets (the nearest their limit), and counts the rest, so a Slack app in
 * 100,000 workspaces does not send 100,000 rows each time. The Budgets tab lists 100 a page (budget-page.ts).
 */
export const OVERVIEW_TENANTS = 20;

export async function overview(deps: ViewDeps, now = new Date()): Promise<Overview> {
  const [minutes, counts, { summary: spend, statuses: budgets, limits }, alerts, breakers] = await Promise.all([
    deps.activity.minutes(HOUR, now),
    deps.counts().catch(() => ({ waiting: 0, active: 0, delayed: 0, dead: 0 })),
    deps.spend.state(now),
    deps.alerts.recent(5),
    deps.breakers(),
  ]);
  const hour = sumFields(minutes);
  const hits = hour.cache_hit ?? 0;
  const misses = hour.cache_miss ?? 0;
  return {
    at: now.toISOString(),
    minutes: minutes.map(({ minute, fields }) => minuteCounts(minute, fields)),
    replyMs: { p50: replyQuantile(hour, 0.5), p95: replyQuantile(hour, 0.95), count: hour.answered ?? 0 },
    queue: counts,
    spend: { today: { ...spend.today, ...topTenants(spend.today.byTenant) }, month: { totalUsd: spend.month.totalUsd } },
    cache: { hits, misses, hitRate: hits + misses > 0 ? hits / (hits + misses) : null },
    breaker: breakers.state,
    breakers: breakers.processes,
    rateLimited: hour.rate_limited ?? 0,
    limits,
    ...nearestBudgets(budgets),
    alerts,
  };
}

/** The tenants that spent most, and how many others spent how much together. */
function topTenants(byTenant: Record<string, number>): Pick<Overview['spend']['today'], 'byTenant' | 'otherTenants'> {
  const ranked = Object.entries(byTenant).sort((a, b) => b[1] - a[1]);
  const others = ranked.slice(OVERVIEW_TENANTS);
  return { byTenant: Object.fromEntries(ranked.slice(0, OVERVIEW_TENANTS)), otherTenants: { count: others.length, totalUsd: others.reduce((sum, [, usd]) => sum + usd, 0) } };
}

/** The overall budgets and the tenant budgets nearest their limit, in their order; the others counted by state. */
function nearestBudgets(statuses: BudgetStatus[]): Pick<Overview, 'budgets' | 'otherBudgets'> {
  const tenants = statuses.filter((status) => status.scope === 'tenant');
  const shown = new Set([...tenants].sort((a, b) => b.ratio - a.ratio).slice(0, OVERVIEW_TENANTS));
  const others = tenants.filter((status) => !shown.has(status));
  return {
    budgets: statuses.filter((status) => status.scope !== 'tenant' || shown.has(status)),
    otherBudgets: countedByState(others),
  };
}

/** The limits, the overall budgets and a page of the tenant budgets (`query`: which, and how many). */
export async function budgets(deps: ViewDeps, now = new Date(), query: BudgetQuery = { limit: BUDGETS_PAGE }): Promise<BudgetsView> {
  const [{ limits, sources, environment, setAt }, statuses] = await Promise.all([deps.limits.view(), deps.spend.statuses(now)]);
  const page = budgetPage(statuses, query);
  return { policy: deps.budget.policy, alertWebhook: deps.alertWebhook, limits, sources, environment, setAt, ...page, ...(query.tenant !== undefined ? { tenant: query.tenant } : {}), limit: query.limit };
}

/** A dead letter as the console shows it: who, what, why, and the payload to replay. */
/** The dead letters a page lists unless `limit` says otherwise, and the most it lists. */
export const DEAD_LETTERS_PAGE = 100;
export const MAX_DEAD_LETTERS_PAGE = 1000;

/**
 * GET /console/api/dead-letters: the oldest `limit` letters (held within 1…1000, 100 when absent or
 * not a number), how many there are and whether more are left out. A day's outage leaves thousands:
 * all of them, with their payloads, made an answer of megabytes the page took seconds to lay out.
 */
export function deadLetterPage(letters: DeadLetter<JobData>[], params: URLSearchParams): DeadLetterPage {
  const limit = pageLimitOf(params.get('limit'), DEAD_LETTERS_PAGE, MAX_DEAD_LETTERS_PAGE);
  return { deadLetters: letters.slice(0, limit).map(deadLetterView), count: letters.length, more: letters.length > limit };
}

export function deadLetterView(letter: DeadLetter<JobData>): DeadLetterView {
  const data = letter.data;
  const message = data.type === 'message' ? data.message : undefined;
  const conversation = message?.conversation ?? (data.type === 'notice' ? data.conversation : undefined);
  return {
    id: letter.id,
    platform: conversation?.platform ?? 'unknown',
    conversation: conversation?.id ?? letter.group,
    user: message?.user.id ?? '',
    text: message?.text ?? (data.type === 'notice' ? data.reply.text : ''),
    reason: letter.reason,
    error: letter.error,
    attempts: letter.attempts,
    failedAt: letter.failedAt,
    payload: data,
  };
}
