/**
 * With budgets set, a model that has no price counts as $0 against them. parley's own models are
 * checked at start; a model named only at run time (a custom client's stream, a proxy answering
 * under another name) is warned about when first counted: once per model name, not per message.
 */
import type { Logger } from 'pino';
import { priceOf } from '../ai/prices.js';
import type { PriceTable } from '../ai/index.js';

/** A check to call with each model counted: warns the first time it sees one without a price. */
export function unpricedModelWarning(prices: PriceTable, logger: Logger): (model: string) => void {
  const seen = new Set<string>();
  return (model) => {
    // A server naming a new model each call must not grow this without end: the first hundred are plenty.
    if (seen.has(model) || seen.size >= 100) return;
    seen.add(model);
    if (!priceOf(prices, model)) logger.warn({ model }, `AI budgets are set but ${model} has no price: its answers count as $0. Add it to AI_PRICES.`);
  };
}
