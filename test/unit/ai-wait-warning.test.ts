/**
 * AI_MAX_WAIT_MS below AI_BREAKER_HALF_OPEN_MS: a message waiting for the open AI circuit is given
 * up before the circuit lets its probe through, so each opening ends in apologies. Both are valid
 * alone, so nothing refuses them: createBot warns once at start naming both and their values, and
 * `parley check` prints it as a warn line (still exit 0).
 */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { check } from '../../cli/check.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';

const SHORT = { AI_MAX_WAIT_MS: '5000', AI_BREAKER_HALF_OPEN_MS: '30000' };
const WARNING = /^AI_MAX_WAIT_MS=5000 is below AI_BREAKER_HALF_OPEN_MS=30000: a message waiting for the open AI circuit is given up, with the apology, before the circuit lets its probe through.*Set AI_MAX_WAIT_MS well above AI_BREAKER_HALF_OPEN_MS/;

const bots: Bot[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.close();
});

function warnings(env: Record<string, string>): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  bots.push(createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'test-key', ...env }), logger }));
  return lines.filter((line) => String(line.msg).includes('AI_MAX_WAIT_MS'));
}

describe('AI_MAX_WAIT_MS below AI_BREAKER_HALF_OPEN_MS', () => {
  it('createBot warns once at start, naming both settings and their values', () => {
    const lines = warnings(SHORT);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, maxWaitMs: 5000, breakerHalfOpenAfterMs: 30000 });
    expect(String(lines[0]!.msg)).toMatch(WARNING);
  });

  it('no warning with the defaults, nor when AI_MAX_WAIT_MS is at least AI_BREAKER_HALF_OPEN_MS', () => {
    expect(warnings({})).toEqual([]);
    expect(warnings({ AI_MAX_WAIT_MS: '30000', AI_BREAKER_HALF_OPEN_MS: '30000' })).toEqual([]);
  });

  async function checked(env: Record<string, string>): Promise<{ out: string; status: number }> {
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
    try {
      const status = await check(loadConfig({ ...testEnv, ...env }), {});
      return { out: out.join('\n'), status };
    } finally {
      log.mockRestore();
    }
  }

  it('parley check prints it as a warn line of the configuration, and still passes', async () => {
    const { out, status } = await checked(SHORT);
    expect(out).toMatch(/^warn {2}configuration: AI_MAX_WAIT_MS=5000 is below AI_BREAKER_HALF_OPEN_MS=30000: .*Set AI_MAX_WAIT_MS well above AI_BREAKER_HALF_OPEN_MS/m);
    expect(out).not.toMatch(/^FAIL/m);
    expect(status).toBe(0);
    expect((await checked({})).out).not.toContain('AI_MAX_WAIT_MS');
  });
});
