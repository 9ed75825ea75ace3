/**
 * The bot's AI client from its configuration: the primary provider under an adaptive concurrency
 * limit (shared on Redis), a fallback model when one is configured, and the calls-per-minute limit.
 */
import type { Logger } from 'pino';
import { createAiClient, defaultPrices, type AiClient, type AiOptions } from './ai/index.js';
import { FallbackAiClient } from './ai/fallback.js';
import { limitAiCalls } from './ai-rate-limit.js';
import { aiEvents } from './ai-events.js';
import type { Backends } from './backends.js';
import type { Config } from './config.js';
import type { Metrics } from './observe/index.js';

export function createBotAi(config: Config, backends: Backends, metrics: Metrics, logger: Logger, given?: AiClient): AiClient {
  const ai = given ?? withFallback(config, backends, metrics, logger);
  const callsPerMinute = backends.limiter('ai', config.limits.aiCallsPerMinute);
  return callsPerMinute ? limitAiCalls(ai, callsPerMinute) : ai;
}

function withFallback(config: Config, backends: Backends, metrics: Metrics, logger: Logger): AiClient {
  const { fallback } = config.ai;
  const base = aiOptions(config);
  const client = (options: AiOptions, name: string) =>
    createAiClient({
      ...options,
      concurrency: backends.adaptiveLimit(name, { max: options.maxConcurrent, leaseMs: options.deadlineMs + 30_000 }),
      cache: backends.cache,
      events: aiEvents(metrics),
      logger,
    });
  if (!fallback) return client(base, 'ai');
  const primary = client({ ...base, fallbackAfterMs: fallback.afterMs }, 'ai');
  const standIn = client({ ...base, model: fallback.model, baseURL: fallback.baseURL, apiKey: fallback.apiKey }, 'ai-fallback');
  return new FallbackAiClient(primary, standIn, fallback.afterMs, logger.child({ component: 'ai' }));
}

function aiOptions(config: Config): AiOptions {
  const { maxWaitMs: _maxWait, fallback: _fallback, ...ai } = config.ai;
  return { ...ai, maxBackoffMs: 20_000, maxInlineWaitMs: 30_000, prices: { ...defaultPrices, ...config.ai.prices } };
}
