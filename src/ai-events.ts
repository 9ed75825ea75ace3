import type { AiEvents } from './ai/index.js';
import type { Metrics } from './observe/index.js';

/** Feed the AI client's events into the metrics: latency, errors, cache, tokens, cost and refused keys. */
export function aiEvents(metrics: Metrics): AiEvents {
  return {
    onCall({ model, durationMs, ok, errorKind }) {
      metrics.aiLatency.observe({ model, outcome: ok ? 'ok' : 'error' }, durationMs / 1000);
      metrics.aiCalls.inc({ model, outcome: ok ? 'ok' : (errorKind ?? 'unknown') });
      if (!ok) metrics.aiErrors.inc({ kind: errorKind ?? 'unknown' });
    },
    onCache(hit) {
      metrics.cacheLookups.inc({ result: hit ? 'hit' : 'miss' });
    },
    onUsage({ model, usage }) {
      metrics.tokens.inc({ model, direction: 'input' }, usage.inputTokens);
      metrics.tokens.inc({ model, direction: 'output' }, usage.outputTokens);
      metrics.cost.inc({ model }, usage.costUsd);
    },
    onKeyRejected() {
      metrics.keysRejected.inc();
    },
  };
}
