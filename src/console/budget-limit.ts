/**
 * POST /console/api/budgets/limit: set one of the four budget limits from the console, shared
 * through the store by every process. Body `{"limit", "usd"}`: `limit` is its name in the
 * budgets view (dayUsd…) or its environment variable (AI_BUDGET_USD_PER_DAY…); `usd` an amount,
 * null for no limit, or "environment" to go back to the environment's.
 */
import type { HttpResponse } from '../adapter.js';
import { json, jsonError } from '../http/responses.js';
import { LIMIT_NAMES, LIMIT_VARIABLES, type BudgetLimits, type LimitName } from '../ops/budget-limits.js';
import type { BudgetLimitChange } from './api.js';

/** Past this a limit is more likely a typo (an extra zero or three) than a budget. */
export const MAX_LIMIT_USD = 1_000_000;

export async function setBudgetLimit(limits: BudgetLimits, body: Record<string, unknown> | undefined): Promise<HttpResponse> {
  if (!body || Array.isArray(body)) return invalid('Send a JSON object: {"limit": "dayUsd", "usd": 25}.');
  const name = limitNamed(body.limit);
  if (!name) {
    const names = LIMIT_NAMES.map((n) => `${n} (${LIMIT_VARIABLES[n]})`).join(', ');
    return invalid(`"limit" names no budget limit: use one of ${names}.`);
  }
  const usd = body.usd;
  if (usd !== null && usd !== 'environment') {
    if (typeof usd !== 'number' || !Number.isFinite(usd)) return invalid(`"usd" must be an amount in US dollars (a JSON number), null for no limit, or "environment" for ${LIMIT_VARIABLES[name]}'s value.`);
    if (usd < 0 || usd > MAX_LIMIT_USD) return invalid(`"usd" must be from 0 to ${MAX_LIMIT_USD}, got ${usd}.`);
  }
  const change: BudgetLimitChange = await limits.set(name, usd);
  return json(200, change);
}

function limitNamed(value: unknown): LimitName | undefined {
  if (typeof value !== 'string') return undefined;
  return LIMIT_NAMES.find((name) => name === value || LIMIT_VARIABLES[name] === value);
}

function invalid(message: string): HttpResponse {
  return jsonError(400, 'invalid_budget_limit', message);
}
