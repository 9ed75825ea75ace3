import { RetryAfterError } from './adapter.js';
import { AiError, type AiClient } from './ai/index.js';
import type { Limiter } from './limit/index.js';

/** Said by every refusal of the AI calls-per-minute limit. */
const OVER_LIMIT = 'the AI calls-per-minute limit is reached';

/**
 * The AI calls-per-minute limit (AiOptions.admitCall), shared by every process when the limiter is
 * on Redis. parley's own AI clients ask it only for a call that goes to the provider: an answer
 * from the cache, or from an identical call in flight (single-flight), takes nothing from it, nor
 * does a call still waiting for a concurrency slot. Over it, the job is deferred (it waits without
 * spending an attempt): the refusal is a "wait" AiError, which the queue reads as Retry-After.
 */
export function aiCallGate(limiter: Limiter): () => Promise<void> {
  return async () => {
    const result = await limiter.consume('ai');
    if (!result.allowed) throw new AiError('rate_limited', OVER_LIMIT, { retryAfterMs: result.retryAfterMs });
  };
}

/**
 * The same limit around a client given to createBot, whose inside parley cannot reach: each
 * reply takes from the limit unless the client says the cache holds its answer.
 */
export function limitAiCalls(ai: AiClient, limiter: Limiter): AiClient {
  const admit = async () => {
    const result = await limiter.consume('ai');
    if (!result.allowed) throw new RetryAfterError(OVER_LIMIT, result.retryAfterMs);
  };
  return {
    get circuit() {
      return ai.circuit;
    },
    ...(ai.noticeOnly ? { noticeOnly: true } : {}),
    // A cached answer makes no AI call: nothing taken from the limit.
    ...(ai.fromCache ? { fromCache: ai.fromCache.bind(ai) } : {}),
    ...(ai.forgetCached ? { forgetCached: ai.forgetCached.bind(ai) } : {}),
    async reply(request, options) {
      // An answer already cached makes no AI call: it takes nothing of the limit.
      if (!(await ai.hasCached?.(request).catch(() => false))) await admit();
      return ai.reply(request, options);
    },
    ...(ai.stream
      ? {
          stream(request, options) {
            const stream = ai.stream!.bind(ai);
            // Streams start synchronously; admit first by wrapping the chunk iterator.
            let inner: ReturnType<typeof stream> | undefined;
            const started = admit().then(() => (inner = stream(request, options)));
            const result = started.then(() => inner!.result);
            // The chunks' consumer sees a refusal or a failure first and may never read `result`:
            // unread, its rejection would be unhandled, and Node would end the process.
            result.catch(() => undefined);
            return {
              chunks: (async function* () {
                await started;
                yield* inner!.chunks;
              })(),
              result,
              // The model the client says it streams from: a stream cut short is estimated at its price.
              model: () => inner?.model?.(),
            };
          },
        }
      : {}),
  };
}
