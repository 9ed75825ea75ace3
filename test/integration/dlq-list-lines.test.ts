/**
 * `parley dlq list` prints one line a letter (id, when, why, the error's start, tab-separated), so
 * `cut -f1` gives the ids: an error holding line breaks, tabs or terminal escapes (a provider's
 * message, a stack) stays on its letter's line. On a real Redis (BullMQ's queue).
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { dlq } from '../../cli/dlq.js';
import { BullQueue, loadConfig, type DeadLetter, type JobData } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';
import { REDIS_URL, uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
useRedis(prefix);
const queue = new BullQueue<JobData>({ url: REDIS_URL, prefix, retry: { attempts: 1, backoffMs: 1000, maxBackoffMs: 1000 }, lockDurationMs: 30_000 });
afterAll(() => queue.close(0));

const letter = (id: string, error: string, truncated?: boolean): DeadLetter<JobData> => ({
  id,
  group: 'web:c1',
  data: { platform: 'web', nonsense: 1 } as unknown as JobData,
  error,
  reason: 'attempts_exhausted',
  attempts: 1,
  failedAt: new Date(Date.parse('2026-12-06T20:00:00Z') + id.length).toISOString(),
  ...(truncated ? { truncated } : {}),
});

async function list(): Promise<{ code: number; out: string }> {
  let out = '';
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void (out += `${line}\n`));
  try {
    const code = await dlq(loadConfig({ ...testEnv, REDIS_URL, REDIS_PREFIX: prefix }), ['list'], false);
    return { code, out };
  } finally {
    log.mockRestore();
  }
}

describe('parley dlq list', () => {
  it('prints one line of four fields a letter, whatever its error holds; the first 100 characters of it', async () => {
    await queue.addDeadLetter(letter('a1', '400 bad request\n  at call (x.js:1)\r\n\tthen\u001b[31m red'));
    await queue.addDeadLetter(letter('b22', 'y'.repeat(150)));
    const { code, out } = await list();
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines.map((line) => line.split('\t')[0])).toEqual(['a1', 'b22']);
    expect(lines.map((line) => line.split('\t').length)).toEqual([4, 4]);
    expect(lines[0]!.split('\t')[3]).toBe('400 bad request at call (x.js:1) then [31m red');
    expect(lines[1]!.split('\t')[3]).toBe('y'.repeat(100));
  }, 20_000);
});
