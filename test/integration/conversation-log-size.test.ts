/**
 * What an exchange keeps in the conversation log: the first LOG_TEXT_MAX_CHARS characters of its
 * message and of its answer, with a marker. The log caps its entries by count, not size: 40,000-character
 * pastes made each Redis entry about 48 KB (an index of 10,000 about 500 MB, read whole by every console search).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryConversationLog, RedisConversationLog, type InboundMessage } from '../../src/index.js';
import { recordApology, recordExchange } from '../../src/exchange-log.js';
import { LOG_TEXT_MAX_CHARS, logText } from '../../src/log-text.js';
import { uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);
const logger = pino({ level: 'silent' });

const message = (text: string): InboundMessage => ({
  id: 'm1',
  platform: 'web',
  conversation: { platform: 'web', id: 'conv-long' },
  user: { id: 'visitor' },
  text,
  receivedAt: new Date().toISOString(),
});
const pasted = 'lorem ipsum dolor sit amet '.repeat(1500).slice(0, 40_000);
const result = { model: 'gpt-test', usage: { inputTokens: 10_000, outputTokens: 900, costUsd: 0.01 } };

describe('the conversation log keeps the start of long texts', () => {
  it('cuts a long message and answer to LOG_TEXT_MAX_CHARS characters each, saying how many more there were; short ones stay whole', async () => {
    const log = new MemoryConversationLog();
    await recordExchange(log, message(pasted), { input: pasted, output: 'A short answer.', result: result as never }, logger, 'job-1');
    const [entry] = await log.list('conv-long');
    expect(entry!.input).toBe(`${pasted.slice(0, LOG_TEXT_MAX_CHARS)} … [${40_000 - LOG_TEXT_MAX_CHARS} more characters not kept in the log]`);
    expect(entry!.output).toBe('A short answer.');
    expect([entry!.inputTokens, entry!.costUsd]).toEqual([10_000, 0.01]); // the usage is the whole exchange's
  });

  it('cuts an apology\'s message too', async () => {
    const log = new MemoryConversationLog();
    await recordApology(log, message(pasted), 'Sorry.', logger);
    const [entry] = await log.list('conv-long');
    expect(entry!.input.length).toBeLessThan(LOG_TEXT_MAX_CHARS + 100);
    expect(entry!.output).toBe('Sorry.');
  });

  it('never cuts a character in half (an emoji is one character, two UTF-16 units)', () => {
    const text = '😀'.repeat(LOG_TEXT_MAX_CHARS + 5);
    expect(logText(text)).toBe(`${'😀'.repeat(LOG_TEXT_MAX_CHARS)} … [5 more characters not kept in the log]`);
    expect(logText('😀'.repeat(LOG_TEXT_MAX_CHARS))).toBe('😀'.repeat(LOG_TEXT_MAX_CHARS)); // longer in UTF-16, not in characters
  });

  it('keeps a Redis index entry to a few KB for a 40,000-character paste and a long answer', async () => {
    const log = new RedisConversationLog(await redis.connection(), { prefix });
    const answer = 'An answer. '.repeat(1000); // 11,000 characters
    for (let n = 0; n < 20; n++) await recordExchange(log, message(pasted), { input: pasted, output: answer, result: result as never }, logger, `job-${n}`);
    const bytes = Number(await redis.admin().memory('USAGE', log.indexKey));
    expect(bytes / 20).toBeLessThan(12_000); // about 48,000 each before
  });
});
