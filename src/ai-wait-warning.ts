/**
 * AI_MAX_WAIT_MS and AI_BREAKER_HALF_OPEN_MS are each valid alone, but a message may wait for an
 * open AI circuit only AI_MAX_WAIT_MS, and the circuit lets its first probe through only after
 * AI_BREAKER_HALF_OPEN_MS: with the first shorter, a message waiting on the circuit is given up (the
 * apology) before the probe could answer it. createBot warns at start; `parley check` warns too.
 */
import type { Config } from './config.js';

/** The warning when AI_MAX_WAIT_MS is below AI_BREAKER_HALF_OPEN_MS (undefined when it is not). */
export function maxWaitBelowHalfOpen(ai: Pick<Config['ai'], 'maxWaitMs' | 'breakerHalfOpenAfterMs'>): string | undefined {
  const { maxWaitMs, breakerHalfOpenAfterMs } = ai;
  if (maxWaitMs >= breakerHalfOpenAfterMs) return undefined;
  return (
    `AI_MAX_WAIT_MS=${maxWaitMs} is below AI_BREAKER_HALF_OPEN_MS=${breakerHalfOpenAfterMs}: a message waiting for the open AI circuit is given up, with the apology, ` +
    'before the circuit lets its probe through, so every opening of the circuit ends in apologies. Set AI_MAX_WAIT_MS well above AI_BREAKER_HALF_OPEN_MS (defaults 600000 and 30000)'
  );
}
