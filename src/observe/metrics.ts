import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
// The file, not the folder's index: the kinds only, without the AI client and its SDK.
import { AI_ERROR_KINDS } from '../ai/errors.js';
import { LabelValues, boundLabels } from './label-values.js';

/**
 * Time-to-reply buckets in seconds: the console's p50 and p95 are read from them. Fine below
 * 0.25 s: replies of 20-80 ms all fell in the first bucket and read as p50 125 ms, p95 238 ms.
 */
export const REPLY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600];

/**
 * One job attempt, in seconds: past AI_DEADLINE_MS (90 s by default) and the posting after it, so
 * an attempt the AI deadline ends reads as about 90 s: with 60 s on top, p95 read 60 s for them all.
 */
export const JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The core's own dead-letter reasons (README "Dead letters"): never 'other', whatever platforms
 * send. An adapter's reasons (`slack_…`, `twilio_<code>`) are the bounded outside values.
 */
const DEAD_LETTER_REASONS = [
  'attempts_exhausted', 'stalled', 'max_wait', 'poison', 'config', 'invalid_job', 'no_adapter', 'no_send', 'permanent', 'direct_failed', 'redriven', 'too_large',
  // A final AI failure (failure.ts): `ai_<kind>`, every kind the AI client knows.
  'ai_input_too_long', ...AI_ERROR_KINDS.map((kind) => `ai_${kind}`),
];

/** The `code` of parley_replies_undelivered_total when the platform gave none. */
const NO_CODE = 'none';

/** Every parley metric, on a registry of its own so several bots in one process do not clash. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  // The event-loop lag is sampled every 100 ms, not prom-client's 10 ms: a timer a hundred times a
  // second kept an idle process waking (its CPU, and a virtual machine's, for nothing); a stall
  // still shows in full, each sample measures how late its timer ran.
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'parley_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const registers = [registry];
  // Labels whose values come from outside: the model a server says answered, a platform's error code in a dead letter's reason.
  const models = new LabelValues();
  const reasons = new LabelValues(DEAD_LETTER_REASONS);
  // A platform's code for a reply it took and could not deliver (Twilio's 63016, 30008…); `none` when it gave none.
  const undeliveredCodes = new LabelValues([NO_CODE]);
  const metrics = {
    registry,
    webhooksReceived: new Counter({ name: 'parley_webhooks_received_total', help: 'Webhook requests received', labelNames: ['platform'], registers }),
    webhooksRejected: new Counter({ name: 'parley_webhooks_rejected_total', help: 'Webhook requests rejected', labelNames: ['platform', 'reason'], registers }),
    messagesReceived: new Counter({ name: 'parley_messages_received_total', help: 'Messages taken (first deliveries, rate-limited ones included)', labelNames: ['platform'], registers }),
    replySeconds: new Histogram({ name: 'parley_reply_seconds', help: "From a message's arrival to its answer posted", labelNames: ['platform'], buckets: REPLY_BUCKETS, registers }),
    duplicatesDropped: new Counter({ name: 'parley_duplicates_dropped_total', help: 'Redelivered messages dropped by the dedupe', labelNames: ['platform'], registers }),
    rateLimited: new Counter({ name: 'parley_rate_limited_total', help: 'Messages refused by a rate limit, and requests refused by a web chat limit', labelNames: ['platform', 'limit'], registers }),
    // What /readyz checks, for Prometheus: a Redis down or paused shows here, not only in the probe's 503.
    backendUp: new Gauge({ name: 'parley_backend_up', help: "1 while the store (backend=store) or the queue (backend=queue) answers /readyz's check, 0 while it is down; checked every 5 s", labelNames: ['backend'], registers }),
    queueDepth: new Gauge({ name: 'parley_queue_depth', help: 'Jobs in the queue by state', labelNames: ['state'], registers }),
    jobDuration: new Histogram({ name: 'parley_job_duration_seconds', help: 'Time to handle one message', labelNames: ['platform', 'outcome'], buckets: JOB_BUCKETS, registers }),
    aiLatency: new Histogram({ name: 'parley_ai_latency_seconds', help: 'AI call latency per attempt', labelNames: ['model', 'outcome'], buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60], registers }),
    aiCalls: new Counter({ name: 'parley_ai_calls_total', help: 'AI calls (HTTP attempts) by the model asked and how they ended: ok, rate_limited, server, timeout...', labelNames: ['model', 'outcome'], registers }),
    aiErrors: new Counter({ name: 'parley_ai_errors_total', help: 'AI call failures by kind', labelNames: ['kind'], registers }),
    cacheLookups: new Counter({ name: 'parley_cache_lookups_total', help: 'Response cache lookups', labelNames: ['result'], registers }),
    tokens: boundLabels(new Counter({ name: 'parley_ai_tokens_total', help: 'Tokens used', labelNames: ['model', 'direction'], registers }), { model: models }),
    cost: boundLabels(new Counter({ name: 'parley_ai_cost_usd_total', help: 'Estimated AI cost in US dollars', labelNames: ['model'], registers }), { model: models }),
    repliesSent: new Counter({ name: 'parley_replies_sent_total', help: 'Replies delivered', labelNames: ['platform', 'kind'], registers }),
    repliesFailed: new Counter({ name: 'parley_replies_failed_total', help: 'Tries at posting a reply that failed (each try: a retry may still deliver the reply)', labelNames: ['platform'], registers }),
    // A platform's outage: its waits spend no attempt (README "A platform that answers a 5xx"), so parley_replies_failed_total never sees one.
    platformWaits: new Counter({ name: 'parley_platform_waits_total', help: "Tries of a message or notice that met its platform's API down (a 5xx) or not reachable: it went back to the queue to wait, no attempt spent, until AI_MAX_WAIT_MS", labelNames: ['platform'], registers }),
    repliesUndelivered: boundLabels(
      new Counter({ name: 'parley_replies_undelivered_total', help: "Replies the platform took and later reported it could not deliver (Twilio's failed or undelivered status callbacks), by the platform's error code", labelNames: ['platform', 'code'], registers }),
      { code: undeliveredCodes },
    ),
    conversationLogFailed: new Counter({ name: 'parley_conversation_log_failed_total', help: 'Exchanges and apologies that could not be written to the conversation log (the reply was posted all the same)', labelNames: ['platform'], registers }),
    deadLettered: boundLabels(new Counter({ name: 'parley_dead_lettered_total', help: 'Messages moved to the dead letters', labelNames: ['platform', 'reason'], registers }), { reason: reasons }),
    circuitOpen: new Gauge({ name: 'parley_ai_circuit_open', help: '1 while the AI circuit breaker is open (or half-open), else 0', registers }),
    keysRejected: new Counter({ name: 'parley_ai_key_rejected_total', help: 'AI provider keys refused with a 401 (the next key of OPENAI_API_KEY takes over)', registers }),
    budgetSpent: new Gauge({ name: 'parley_ai_budget_spent_usd', help: 'AI spend in the current UTC period, all processes together', labelNames: ['period'], registers }),
    budgetLimit: new Gauge({ name: 'parley_ai_budget_limit_usd', help: 'The overall AI budget for the period (AI_BUDGET_USD_PER_DAY / _PER_MONTH); absent when none is set', labelNames: ['period'], registers }),
    // No tenant label: one series per period however many tenants there are.
    budgetTenantMaxRatio: new Gauge({ name: 'parley_ai_budget_tenant_max_ratio', help: 'The largest share of the per-tenant AI budget (AI_BUDGET_USD_PER_TENANT_PER_DAY / _PER_MONTH) any one tenant has spent in the period (1 = spent); absent when none is set', labelNames: ['period'], registers }),
    budgetActions: new Counter({ name: 'parley_ai_budget_actions_total', help: 'AI calls past a budget (each try of a message), by what AI_BUDGET_POLICY did: notice, fallback or allow', labelNames: ['action'], registers }),
    feedback: new Counter({ name: 'parley_feedback_total', help: "People's ratings of AI answers (a changed rating counts again), by platform and rating: good or bad", labelNames: ['platform', 'rating'], registers }),
    alerts: new Counter({ name: 'parley_alerts_total', help: 'Alerts raised (one per episode), by kind', labelNames: ['kind'], registers }),
    /** The models the bot is configured with and has prices for: always their own `model` label, never counted against the bound. */
    knowModels: (...names: (string | undefined)[]) => models.know(...names),
  };
  // At 0 from the start, as zeroSeries below: a first burst of AI errors would otherwise not show in rate().
  for (const kind of AI_ERROR_KINDS) metrics.aiErrors.inc({ kind }, 0);
  for (const result of ['hit', 'miss']) metrics.cacheLookups.inc({ result }, 0);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A platform's counters at 0 for the labels parley itself gives them. A labelled series otherwise
 * appears at its first increment, already counted, and rate() and increase() read nothing of that
 * first scrape interval: a first burst of signature failures (or rate-limit refusals, apologies,
 * ratings...) raised the alert but the dashboard's panel stayed at 0.
 */
function zeroSeries(metrics: Metrics, platform: string): void {
  for (const counter of [metrics.webhooksReceived, metrics.messagesReceived, metrics.duplicatesDropped, metrics.repliesFailed, metrics.platformWaits, metrics.conversationLogFailed]) counter.inc({ platform }, 0);
  for (const reason of ['missing_signature', 'bad_signature', 'bad_timestamp', 'stale_timestamp']) metrics.webhooksRejected.inc({ platform, reason }, 0);
  for (const limit of ['user', 'conversation', 'tenant']) metrics.rateLimited.inc({ platform, limit }, 0);
  for (const kind of ['answer', 'apology', 'notice']) metrics.repliesSent.inc({ platform, kind }, 0);
  for (const rating of ['good', 'bad']) metrics.feedback.inc({ platform, rating }, 0);
}

/** The counts an adapter reports through its context (AdapterContext.rateLimited, .duplicateDropped, .replyUndelivered); its counters start at 0. */
export function adapterCounts(metrics: Metrics, platform: string): { rateLimited(limit: string): void; duplicateDropped(): void; replyUndelivered(code?: string): void } {
  zeroSeries(metrics, platform);
  return {
    rateLimited: (limit) => metrics.rateLimited.inc({ platform, limit }),
    duplicateDropped: () => metrics.duplicatesDropped.inc({ platform }),
    replyUndelivered: (code) => metrics.repliesUndelivered.inc({ platform, code: code || NO_CODE }),
  };
}
