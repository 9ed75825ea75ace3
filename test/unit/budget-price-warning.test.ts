/**
 * With budgets set, a model that has no price would count as $0 against them: the bot says so at
 * build, for the fallback model as for the primary (the fallback answers in outages and, with
 * AI_BUDGET_POLICY=fallback, past a budget).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';

const bots: Bot[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.close();
});

function warningsOf(env: Record<string, string>): string[] {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(String(JSON.parse(line).msg)) });
  bots.push(createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'test-key', AI_BUDGET_USD_PER_DAY: '1', ...env }), logger }));
  return lines.filter((line) => line.includes('has no price'));
}

describe('the start-up warning for a model with no price', () => {
  it('names an unpriced fallback model', () => {
    const lines = warningsOf({ OPENAI_MODEL: 'gpt-4o-mini', OPENAI_FALLBACK_MODEL: 'llama3', AI_BUDGET_POLICY: 'fallback' });
    expect(lines).toEqual([expect.stringContaining('llama3 has no price')]);
  });

  it('names a model of a priced family that has no price of its own', () => {
    expect(warningsOf({ OPENAI_MODEL: 'gpt-4o-realtime-preview' })).toEqual([expect.stringContaining('gpt-4o-realtime-preview has no price')]);
  });

  it('says nothing when both models are priced', () => {
    expect(warningsOf({ OPENAI_MODEL: 'gpt-4.1', OPENAI_FALLBACK_MODEL: 'gpt-4.1-nano' })).toEqual([]);
  });
});
