/** The AI client: openai SDK + retries, circuit breaker, timeouts, concurrency limit, response cache, usage & cost. */
export type {
  AiClient,
  AiEvents,
  AiOptions,
  AiRequest,
  AiResult,
  AiStream,
  AiUsage,
  CallOptions,
  CircuitStateName,
  KeyRejection,
  PriceTable,
  ResponseCache,
} from './types.js';
export { AI_ERROR_KINDS, AiError, isInputTooLong, nothingShown, shownTextTakenBack, type AiErrorKind } from './errors.js';
export { fittingContext, replyFittingContext, streamFittingContext } from './shorter-history.js';
export { createAiClient, defaultAiOptions, type AiClientOptions } from './create.js';
export { OpenAiClient } from './openai-client.js';
export { NoProviderAiClient } from './no-provider.js';
export { defaultPrices, costOf } from './prices.js';
export { cacheKey, normaliseQuestion, MemoryResponseCache, type CacheKeyParts } from './cache.js';
export { retryAfterMs } from './retry-after.js';
export { RedisResponseCache } from './redis-cache.js';
