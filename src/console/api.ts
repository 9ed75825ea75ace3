/**
 * What the operator console's JSON API answers (/console/api/...). The page (assets/) reads
 * these shapes; routes.ts builds them. Every route needs the console session cookie or
 * `Authorization: Bearer <ADMIN_TOKEN>`.
 *
 *   GET  /console                          the app, or the sign-in page when not signed in
 *   POST /console/login                    form field `token` → 303 /console with the session cookie
 *                                          (415 unless application/x-www-form-urlencoded; not counted as a failed sign-in)
 *   POST /console/logout                   → 303 /console, cookie cleared; the session is signed out in every
 *                                          process (signed-out.ts): its cookie is refused from then on
 *   GET  /console/assets/<file>            console.css, console.js and the modules it imports (a fixed list)
 *   GET  /console/api/overview             Overview
 *   GET  /console/api/events               SSE: `event: overview` with an Overview every 2 s
 *                                          (`event: unavailable` with { reason, message, at } when it cannot be read)
 *   GET  /console/api/conversations        ?platform&user&text&sort=recent|wait|cost&limit (default 50, held within 1…500)
 *                                          → { conversations: ConversationSummary[], searchable, more } (more: more match than returned)
 *   GET  /console/api/conversations/<id>   { conversationId, entries: ConversationEntry[] (the newest 500, oldest first), more }
 *                                          (more: older exchanges are recorded than shown)
 *   GET  /console/api/dead-letters         ?limit (default 100, held within 1…1000) → DeadLetterPage: the oldest
 *                                          `limit`, how many there are (count) and whether more are left out (more)
 *   POST /console/api/dead-letters/<id>/replay   → { replayed: true } | 404 | 409 not_a_job
 *   POST /console/api/dead-letters/<id>/drop     body {"confirm":"drop"} → { dropped: true } | 404
 *                                          (400 without it; 501 drop_unsupported: the queue has no dropDeadLetter)
 *   POST /console/api/dead-letters/replay-all    → { replayed: n }
 *   POST /console/api/dead-letters/purge   body {"confirm":"purge"} → { purged: n } (400 without it)
 *   GET  /console/api/budgets              ?tenant&limit (default 100, held within 1…1000) → BudgetsView: the overall
 *                                          budgets, then that many tenant budgets nearest their limit; tenant: only ids
 *                                          starting with it (that one exactly first)
 *   POST /console/api/budgets/limit        body {"limit": "dayUsd" | "AI_BUDGET_USD_PER_DAY" | …, "usd": 25 | null}
 *                                          or {"limit": …, "usd": "environment"} → BudgetLimitChange (400 invalid_budget_limit)
 *   GET  /console/api/alerts               { alerts: AlertRecord[] } newest first
 * API POSTs must be sent as application/json (a cross-site form cannot), answering 415 otherwise.
 * A path above asked with the other method answers 405 with `Allow` (api-methods.ts).
 * An action with a session the store cannot check for a sign-out answers 503 store_unreachable (a read goes on).
 * A route that cannot read its data answers 503 at once, `{"error": {"code", "message"}}` with code
 * store_unreachable (Redis is down, as /readyz reports), unavailable, or (an action Redis got but did not
 * answer in time: it may still be carried out) outcome_unknown.
 */

/** One UTC minute of traffic, all processes together. */
export interface MinuteCounts {
  /** ISO minute, e.g. "2026-12-02T10:41". */
  minute: string;
  received: number;
  answered: number;
  apologised: number;
  deadLettered: number;
}

export type BudgetState = 'ok' | 'warning' | 'exceeded';

export interface BudgetStatus {
  scope: 'overall' | 'tenant';
  tenant?: string;
  period: 'day' | 'month';
  /** "2026-12-02" or "2026-12" (UTC). */
  periodKey: string;
  limitUsd: number;
  spentUsd: number;
  /** spent / limit. */
  ratio: number;
  /** warning from 80%, exceeded from 100%. */
  state: BudgetState;
}

export interface AlertRecord {
  /** budget_warning, budget_exceeded, dead_letters, breaker_open, signature_failures, ai_key_rejected. */
  kind: string;
  text: string;
  at: string;
  /** Whether ALERT_WEBHOOK_URL took it (false: not configured or it failed; the log has it either way). */
  delivered: boolean;
}

export interface Overview {
  at: string;
  /** The last 60 minutes, oldest first (minutes with nothing are zeros). */
  minutes: MinuteCounts[];
  /** Time from a message's arrival to its answer posted, over the last 60 minutes. */
  replyMs: { p50: number | null; p95: number | null; count: number };
  queue: { waiting: number; active: number; delayed: number; dead: number };
  spend: {
    /** byTenant: the 20 tenants that spent most today; otherTenants: the rest together. */
    today: { totalUsd: number; byModel: Record<string, number>; byTenant: Record<string, number>; otherTenants: { count: number; totalUsd: number } };
    month: { totalUsd: number };
  };
  /** Over the last 60 minutes. */
  cache: { hits: number; misses: number; hitRate: number | null };
  /** The AI circuit breaker: the worst of every process's (open when any is), as each reported it in the last 10-20 s. */
  breaker: 'closed' | 'open' | 'half-open' | 'isolated';
  /** How many processes are in each breaker state. */
  breakers: Partial<Record<'closed' | 'open' | 'half-open' | 'isolated', number>>;
  /** Messages refused by a rate limit, and requests refused by the web chat's own limits, over the last 60 minutes. */
  rateLimited: number;
  /** The overall budgets and the 20 tenant budgets nearest their limit (the others: GET /console/api/budgets, 100 at a time, or ?tenant=). */
  budgets: BudgetStatus[];
  /** The tenant budgets left out of `budgets`, and how many of them are past 80% and 100%. */
  otherBudgets: { count: number; warning: number; exceeded: number };
  /** The limits in force (absent: no limit), as in BudgetsView: a tenant budget has no status until that tenant spends. */
  limits: BudgetsView['limits'];
  /** The newest few. */
  alerts: AlertRecord[];
}

export interface DeadLetterView {
  id: string;
  platform: string;
  conversation: string;
  user: string;
  /** What the person wrote (the payload's text). */
  text: string;
  reason: string;
  error: string;
  /** Absent when not known (a job SQS moved to its dead-letter queue itself). */
  attempts?: number;
  failedAt: string;
  /** The job's whole payload, as queued. */
  payload: unknown;
}

/** What GET /console/api/dead-letters answers: a page of the dead letters, oldest first. */
export interface DeadLetterPage {
  deadLetters: DeadLetterView[];
  /** How many dead letters there are, those left out included (replay all and purge act on every one). */
  count: number;
  /** More dead letters than listed: a larger `limit`, up to 1000, lists them. */
  more: boolean;
}

export interface BudgetsView {
  policy: 'notice' | 'fallback' | 'allow';
  /** Whether ALERT_WEBHOOK_URL is set. */
  alertWebhook: boolean;
  /** The limits in force (absent: no limit). */
  limits: { dayUsd?: number; monthUsd?: number; tenantDayUsd?: number; tenantMonthUsd?: number };
  /** Where each limit in force comes from: the environment (AI_BUDGET_USD_PER_…) or the console. */
  sources: Record<'dayUsd' | 'monthUsd' | 'tenantDayUsd' | 'tenantMonthUsd', 'environment' | 'console'>;
  /** The environment's limits, which "back to the environment" restores. */
  environment: { dayUsd?: number; monthUsd?: number; tenantDayUsd?: number; tenantMonthUsd?: number };
  /** When the console set each limit it set (ISO). */
  setAt: { dayUsd?: string; monthUsd?: string; tenantDayUsd?: string; tenantMonthUsd?: string };
  /** The overall budgets, then at most `limit` tenant budgets (of `tenant`'s, if given), nearest their limit first. */
  budgets: BudgetStatus[];
  /** The tenant budgets asked for but left out of `budgets`, and how many of them are past 80% and 100%. */
  otherBudgets: { count: number; warning: number; exceeded: number };
  /** The lookup asked for (`?tenant=`): tenant ids starting with it. */
  tenant?: string;
  /** The most tenant budgets listed (`?limit=`, default 100). */
  limit: number;
}

/** What POST /console/api/budgets/limit answers: the change made (null: no limit). */
export interface BudgetLimitChange {
  limit: 'dayUsd' | 'monthUsd' | 'tenantDayUsd' | 'tenantMonthUsd';
  /** Its environment variable. */
  variable: string;
  oldUsd: number | null;
  newUsd: number | null;
  source: 'environment' | 'console';
  /** When this process applied it; every other process applies it within 5 s. */
  effectiveFrom: string;
}
