/**
 * The bot's AI client from its configuration: the primary provider under an adaptive concurrency
 * limit (shared on Redis), a fallback model when one is configured, the calls-per-minute limit,
 * and over all of them the budgets (AI spend counted per day and month, AI_BUDGET_POLICY past them).
 */
import type { Logger } from 'pino';
import { createAiClient, defaultPrices, fittingContext, type AiClient, type AiEvents, type AiOptions, type AiRequest } from './ai/index.js';
import { estimateTokens } from './ai/history.js';
import { estimatedPromptTokens } from './ai/estimated-usage.js';
import { FallbackAiClient } from './ai/fallback.js';
import { LearntContexts } from './ai/learnt-context.js';
import { costOf } from './ai/prices.js';
import { aiCallGate, limitAiCalls } from './ai-rate-limit.js';
import { aiEvents } from './ai-events.js';
import type { Backends } from './backends.js';
import type { Config } from './config.js';
import type { Metrics } from './observe/index.js';
import { BudgetedAiClient } from './ops/budgeted-ai.js';
import type { Spend } from './ops/spend.js';
import type { Alerts } from './ops/alerts.js';
import { unpricedModelWarning } from './ops/unpriced-models.js';
import { maxWaitBelowHalfOpen } from './ai-wait-warning.js';

export function createBotAi(config: Config, backends: Backends, metrics: Metrics, logger: Logger, ops: { spend: Spend; alerts: Alerts }, given?: AiClient): AiClient {
  const { policy, notice, ...limits } = config.budget;
  const prices = { ...defaultPrices, ...config.ai.prices };
  // The model label of the tokens and cost keeps these as they are; a name only a server gives is bounded.
  metrics.knowModels(config.ai.model, config.ai.fallback?.model, ...Object.keys(prices));
  // Counted at $0 against the budgets: said once per model, at start for parley's own, else when first counted.
  const unpriced = unpricedModelWarning(prices, logger);
  const budgetedAtStart = Object.values(limits).some((limit) => limit !== undefined);
  // A budget set in the console counts too: as a model is counted, the limits the budget check just read decide.
  const warnIfUnpriced = (model: string) => (ops.spend.budgeted ? unpriced(model) : undefined);
  const events = (variable: string) => withSpend(withKeyAlerts(aiEvents(metrics), ops.alerts, variable), ops.spend, logger, warnIfUnpriced);
  const callsPerMinute = backends.limiter('ai', config.limits.aiCallsPerMinute);
  // parley's own clients ask the limit inside, once a call is sure to reach the provider (not for a
  // cached answer, nor for one shared with an identical call in flight); a given client is wrapped.
  const admitCall = callsPerMinute ? aiCallGate(callsPerMinute) : undefined;
  const { primary, cheaper } = given ? { primary: given, cheaper: undefined } : withFallback(config, backends, events, logger, admitCall);
  const { spend } = ops;
  // A model that refuses a conversation as too long is asked again with less of its history (each try a call);
  // the context length its refusal names cuts the next histories to fit beforehand (per model, this process).
  const contexts = new LearntContexts({ systemPrompt: config.ai.systemPrompt, maxOutputTokens: config.ai.maxOutputTokens, historyTokenBudget: config.history.tokenBudget, logger: logger.child({ component: 'ai' }) });
  const limited = (ai: AiClient, model: string) => fittingContext(callsPerMinute && given ? limitAiCalls(ai, callsPerMinute) : ai, { contexts, model });
  // The fallback answers in outages and, with AI_BUDGET_POLICY=fallback, past a budget: it counts too.
  if (!given && budgetedAtStart) for (const model of [config.ai.model, config.ai.fallback?.model]) if (model) unpriced(model);
  // parley's own clients' circuit (a given client has its own, if any): said once, at start.
  const shortWait = given ? undefined : maxWaitBelowHalfOpen(config.ai);
  if (shortWait) logger.warn({ maxWaitMs: config.ai.maxWaitMs, breakerHalfOpenAfterMs: config.ai.breakerHalfOpenAfterMs }, shortWait);
  // Outermost, so a notice for a spent budget costs no AI call and no slot of the per-minute limit.
  // A stream cut short brings no usage: its tokens are estimated (about four characters a token).
  const estimate = (request: AiRequest, shown: string, by: 'primary' | 'cheaper', streamed?: string) => {
    // The model the stream went to, when it says: the outage fallback answers under the primary's name.
    const model = streamed ?? (by === 'cheaper' && config.ai.fallback ? config.ai.fallback.model : config.ai.model);
    warnIfUnpriced(model);
    return { model, costUsd: costOf(prices, model, estimatedPromptTokens(config.ai.systemPrompt, request), estimateTokens(shown)) };
  };
  return new BudgetedAiClient(limited(primary, config.ai.model), { spend, policy, notice, ...(cheaper && config.ai.fallback ? { cheaper: limited(cheaper, config.ai.fallback.model) } : {}), metrics, logger: logger.child({ component: 'budget' }), estimate, spendFromEvents: !given });
}

/** The primary (answered by the fallback while it is down or throttling), and the fallback alone: the cheaper model for AI_BUDGET_POLICY=fallback. */
function withFallback(config: Config, backends: Backends, events: (keysVariable: string) => AiEvents, logger: Logger, admitCall?: () => Promise<void>): { primary: AiClient; cheaper?: AiClient } {
  const { fallback } = config.ai;
  const base = aiOptions(config);
  const client = (options: AiOptions, name: string, keysVariable: string) =>
    createAiClient({
      ...options,
      concurrency: backends.adaptiveLimit(name, { max: options.maxConcurrent, leaseMs: options.deadlineMs + 30_000 }),
      cache: backends.cache,
      ...(admitCall ? { admitCall } : {}),
      events: events(keysVariable),
      logger,
    });
  if (!fallback) return { primary: client(base, 'ai', 'OPENAI_API_KEY') };
  const primary = client({ ...base, fallbackAfterMs: fallback.afterMs }, 'ai', 'OPENAI_API_KEY');
  // Its keys are OPENAI_API_KEY's unless OPENAI_FALLBACK_API_KEY names others: a refusal is told under the variable that holds the key.
  const standIn = client({ ...base, model: fallback.model, baseURL: fallback.baseURL, apiKey: fallback.apiKey }, 'ai-fallback', fallback.apiKey === config.ai.apiKey ? 'OPENAI_API_KEY' : 'OPENAI_FALLBACK_API_KEY');
  return { primary: new FallbackAiClient(primary, standIn, fallback.afterMs, logger.child({ component: 'ai' })), cheaper: standIn };
}

/**
 * Every call the provider billed counts toward the budgets from the same event as the cost metric,
 * so the two cannot drift: an empty answer (retried, yet billed) is spent as much as a reply.
 */
function withSpend(events: AiEvents, spend: Spend, logger: Logger, warnIfUnpriced: (model: string) => void): AiEvents {
  return {
    ...events,
    onUsage(billed) {
      events.onUsage?.(billed);
      // The model the server says answered (a proxy may name another than the one asked for).
      if (billed.usage.inputTokens + billed.usage.outputTokens > 0) warnIfUnpriced(billed.model);
      spend.record(billed.model, billed.tenant, billed.usage.costUsd).catch((error: unknown) => {
        logger.warn({ err: error, component: 'budget' }, 'could not count the AI spend');
      });
    },
  };
}

/** A key refused with a 401 raises an alert (once a day per key of `variable`): it was revoked or rotated without parley. */
function withKeyAlerts(events: AiEvents, alerts: Alerts, variable: string): AiEvents {
  return {
    ...events,
    onKeyRejected(rejection) {
      events.onKeyRejected?.(rejection);
      const next = rejection.nextIndex === undefined ? 'no key is left to try' : `key #${rejection.nextIndex + 1} is tried instead`;
      void alerts
        .raise({
          kind: 'ai_key_rejected',
          episode: `${variable}:key-${rejection.keyIndex}-of-${rejection.keys}`,
          ttlMs: 24 * 3_600_000,
          text: `parley: the AI provider refused API key #${rejection.keyIndex + 1} of ${rejection.keys} (401); ${next}. Replace it in ${variable}.`,
          details: { ...rejection },
        })
        .catch(() => undefined);
    },
  };
}

function aiOptions(config: Config): AiOptions {
  const { maxWaitMs: _maxWait, fallback: _fallback, ...ai } = config.ai;
  // An inline wait counts towards AI_MAX_WAIT_MS: it may not be longer than that by itself.
  return { ...ai, maxBackoffMs: 20_000, maxInlineWaitMs: Math.min(30_000, config.ai.maxWaitMs), prices: { ...defaultPrices, ...config.ai.prices } };
}
