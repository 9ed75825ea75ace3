import type { Logger } from 'pino';
import type OpenAI from 'openai';
import type { PriceTable } from './types.js';
import { leftOutFields, logSummaryOf } from '../observe/log-summary.js';

/**
 * USD per 1M tokens for a few current OpenAI models (standard tier). OpenAI caches long prompts'
 * beginnings by itself and bills those tokens (`prompt_tokens_details.cached_tokens`) at `cachedInput`.
 */
export const defaultPrices: PriceTable = {
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10 },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
};

/** A dated snapshot's suffix: "-2024-08-06", or "-0613" as older model names have it. */
const SNAPSHOT = /^-(?:\d{4}-\d{2}-\d{2}|\d{4})$/;

/**
 * The price entry for a model: its exact name, else the model a dated snapshot is of
 * ("gpt-4o-2024-08-06" → "gpt-4o"). Another model of the family ("gpt-4.1-nano") is not
 * "gpt-4.1": without a price of its own it has none, and the start-up warning says so.
 */
export function priceOf(prices: PriceTable, model: string) {
  const exact = prices[model];
  if (exact) return exact;
  const base = Object.keys(prices).find((name) => model.startsWith(name) && SNAPSHOT.test(model.slice(name.length)));
  return base === undefined ? undefined : prices[base];
}

/**
 * Cost in USD of one call; 0 for a model missing from the table (local models are free).
 * `cachedInputTokens`: those of `inputTokens` read from the provider's prompt cache (at most all of them).
 */
export function costOf(prices: PriceTable, model: string, inputTokens: number, outputTokens: number, cachedInputTokens = 0): number {
  const price = priceOf(prices, model);
  if (!price) return 0;
  const cached = Math.min(cachedInputTokens, inputTokens);
  return ((inputTokens - cached) * price.input + cached * (price.cachedInput ?? price.input) + outputTokens * price.output) / 1_000_000;
}

/** A reported usage's tokens (made safe by tokenCount) and their cost: prompt tokens read from the provider's cache at their own price. */
export function usageCost(prices: PriceTable, model: string, usage: OpenAI.CompletionUsage | undefined, logger?: Logger): { inputTokens: number; outputTokens: number; costUsd: number } {
  const inputTokens = tokenCount(usage?.prompt_tokens, 'prompt_tokens', logger);
  const outputTokens = tokenCount(usage?.completion_tokens, 'completion_tokens', logger);
  const cachedTokens = tokenCount(usage?.prompt_tokens_details?.cached_tokens, 'cached_tokens', logger);
  return { inputTokens, outputTokens, costUsd: costOf(prices, model, inputTokens, outputTokens, cachedTokens) };
}

/** More tokens than any model reads or writes in one call: a count past it is the server's mistake. */
export const MAX_PLAUSIBLE_TOKENS = 10_000_000;

/**
 * A token count as a provider reported it, made safe to add to metrics and budgets: missing or
 * unreadable (a string, negative, NaN, Infinity) counts 0, and an absurd one counts as at most
 * MAX_PLAUSIBLE_TOKENS. A negative count would throw in the metrics' counter and lower the spend;
 * an absurd one would spend every budget at once.
 */
export function tokenCount(value: unknown, name: string, logger?: Logger): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_PLAUSIBLE_TOKENS) return value;
  const counted = typeof value === 'number' && Number.isFinite(value) && value > MAX_PLAUSIBLE_TOKENS ? MAX_PLAUSIBLE_TOKENS : 0;
  // Once a minute per field (a broken server gets every answer wrong), and never the whole value: it may be any JSON.
  const leftOut = logger ? logSummaryOf(logger).take(`implausible ${name}`) : undefined;
  if (leftOut !== undefined) logger?.warn({ field: name, reported: String(value).slice(0, 100), counted, ...leftOutFields(leftOut) }, 'AI provider reported an implausible token count');
  return counted;
}
