import { RetryAfterError } from './adapter.js';
import type { AiClient } from './ai/index.js';
import type { Limiter } from './limit/index.js';

/**
 * The AI calls-per-minute limit, shared by every process when the limiter is on Redis. Over it,
 * the job is deferred (it waits without spending an attempt) instead of calling the provider. An
 * answer the cache already holds is given without taking from the limit.
 */
export function limitAiCalls(ai: AiClient, limiter: Limiter): AiClient {
  const admit = async () => {
    const result = await limiter.consume('ai');
    if (!result.allowed) throw new RetryAfterError('the AI calls-per-minute limit is reached', result.retryAfterMs);
  };
  return {
    get circuit() {
      return ai.circuit;
    },
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
            };
          },
        }
      : {}),
  };
}
