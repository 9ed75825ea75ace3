/**
 * Budgets counted in a process's memory (no REDIS_URL, no DynamoDB): each process counts its own
 * spend and a restart starts it again at $0. The bot says so once at start; on Redis it does not,
 * nor without a budget (the no-setup start).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';
import { REDIS_URL, uniquePrefix, useRedis } from './redis-helpers.js';

const WARNING = /AI budgets are counted in this process's memory: each process counts its own spend, and a restart starts the day and the month again at \$0\. Set REDIS_URL/;

describe('budgets in memory', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  const bots: Bot[] = [];
  afterEach(async () => {
    await Promise.all(bots.splice(0).map((bot) => bot.close()));
  });

  async function started(env: Record<string, string>): Promise<Record<string, unknown>[]> {
    const lines: Record<string, unknown>[] = [];
    const bot = createBot({
      config: loadConfig({ ...testEnv, WEB_CHAT: 'false', ...env }),
      adapters: [],
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }),
    });
    bots.push(bot);
    await bot.start();
    return lines;
  }
  const warned = (lines: Record<string, unknown>[]) => lines.filter((line) => line.level === 40 && WARNING.test(String(line.msg)));

  it('a budget counted in memory is warned about once at start, naming the budgets set; not without a budget, nor with the spend on Redis', async () => {
    const lines = await started({ AI_BUDGET_USD_PER_DAY: '20', AI_BUDGET_USD_PER_TENANT_PER_MONTH: '5' });
    expect(warned(lines)).toHaveLength(1);
    expect(warned(lines)[0]!.budgets).toEqual(['AI_BUDGET_USD_PER_DAY', 'AI_BUDGET_USD_PER_TENANT_PER_MONTH']);
    expect(warned(await started({}))).toEqual([]);
    expect(warned(await started({ AI_BUDGET_USD_PER_DAY: '20', REDIS_URL, REDIS_PREFIX: prefix }))).toEqual([]);
  });
});
