import type { PriceTable } from './types.js';

/** USD per 1M tokens for a few current OpenAI models (standard tier, not cached input). */
export const defaultPrices: PriceTable = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1': { input: 2, output: 8 },
};

/** The price entry for a model: exact name, else the longest base name of a snapshot ("gpt-4o-2024-08-06" → "gpt-4o"). */
export function priceOf(prices: PriceTable, model: string) {
  const exact = prices[model];
  if (exact) return exact;
  let best: string | undefined;
  for (const name of Object.keys(prices)) {
    if (model.startsWith(`${name}-`) && (best === undefined || name.length > best.length)) best = name;
  }
  return best === undefined ? undefined : prices[best];
}

/** Cost in USD of one call; 0 for a model missing from the table (local models are free). */
export function costOf(prices: PriceTable, model: string, inputTokens: number, outputTokens: number): number {
  const price = priceOf(prices, model);
  if (!price) return 0;
  return (inputTokens * price.input + outputTokens * price.output) / 1_000_000;
}
