/**
 * `parley dlq list` prints one line a letter (id, when, why, the error's start, tab-separated), so
 * `cut -f1` gives the ids: an error holding line breaks, tabs or terminal escapes (a provider's
 * message, a stack) stays on its letter's line. On a real Redis (BullMQ's queue).
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readArgs } from '../../cli/args.js';
import { dlq } from '../../cli/dlq.js';
import type { LetterFilter } from '../../cli/dlq-filter.js';
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

async function list(filter?: LetterFilter): Promise<{ code: number; out: string }> {
  let out = '';
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void (out += `${line}\n`));
  try {
    const code = await dlq(loadConfig({ ...testEnv, REDIS_URL, REDIS_PREFIX: prefix }), ['list'], false, filter);
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

  it("lists one customer's letters: --user exactly, --conversation a part of the conversation's id, or the request id or job id", async () => {
    const message = (id: string, conversation: string, user: string, requestId: string): DeadLetter<JobData> => ({
      ...letter(id, 'AiError: AI provider answered 500'),
      data: { type: 'message', requestId, message: { id, platform: 'slack', conversation: { platform: 'slack', id: conversation }, user: { id: user }, text: 'hi', receivedAt: '2026-12-06T20:00:00Z' } },
    });
    await queue.addDeadLetter(message('slack.Ev1', 'T1:C0CUSTOMER:1.2', 'U0CUSTOMER', 'req-1'));
    await queue.addDeadLetter(message('whatsapp.SM2', 'whatsapp:+14155238886:whatsapp:+15557654321', '15557654321', 'req-2'));
    const ids = async (filter: LetterFilter) => (await list(filter)).out.trimEnd().split('\n').map((line) => line.split('\t')[0]);
    expect(await ids({ user: 'U0CUSTOMER' })).toEqual(['slack.Ev1']);
    expect(await ids({ conversation: 'c0customer' })).toEqual(['slack.Ev1']);
    expect(await ids({ conversation: '+15557654321' })).toEqual(['whatsapp.SM2']);
    expect(await ids({ conversation: 'req-2' })).toEqual(['whatsapp.SM2']);
    expect(await ids({ conversation: 'slack.Ev1', user: 'U0CUSTOMER' })).toEqual(['slack.Ev1']);
    expect(await list({ user: 'U0NOBODY' })).toEqual({ code: 0, out: 'none of the 4 dead letters match\n' });
    expect(await ids({})).toEqual(['a1', 'b22', 'slack.Ev1', 'whatsapp.SM2']);
    // The command line takes both options for `dlq list`.
    expect(readArgs(['dlq', 'list', '--user', 'U0CUSTOMER', '--conversation', 'C0CUSTOMER'], 'usage')).toMatchObject({ values: { user: 'U0CUSTOMER', conversation: 'C0CUSTOMER' } });
  }, 20_000);
});
