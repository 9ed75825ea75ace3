import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { exchangeOf, feedbackRecorder, MAX_REASON_CHARS } from '../../src/feedback.js';
import { MemoryConversationLog, type ConversationEntry } from '../../src/conversation-log.js';
import { createMetrics } from '../../src/observe/index.js';

const logger = pino({ level: 'silent' });
const conversation = { platform: 'slack', id: 'T1:C1:1.5' };
const entry: ConversationEntry = {
  id: 'slack.Ev1',
  conversationId: conversation.id,
  timestamp: new Date().toISOString(),
  platform: 'slack',
  user: 'U1',
  input: 'where is my order?',
  output: 'It shipped.',
  model: 'gpt-4o-mini',
  inputTokens: 1,
  outputTokens: 1,
  costUsd: 0,
  latencyMs: 10,
};

async function counted(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const values = (await metrics.feedback.get()).values;
  return Object.fromEntries(values.map((v) => [`${v.labels.platform}/${v.labels.rating}`, v.value]));
}

describe('exchangeOf', () => {
  it("is the job id before a reply's or a part's key's first ':'", () => {
    expect(exchangeOf('slack.Ev1:1')).toBe('slack.Ev1');
    expect(exchangeOf('slack.Ev1:1:0')).toBe('slack.Ev1');
    expect(exchangeOf('web.visitor.abc')).toBe('web.visitor.abc');
  });
});

describe('feedbackRecorder', () => {
  it('stores a rating with its exchange and counts it once per change of rating', async () => {
    const log = new MemoryConversationLog();
    await log.record(entry);
    const metrics = createMetrics();
    const feedback = feedbackRecorder(log, metrics, logger);
    const base = { platform: 'slack', conversation, exchange: 'slack.Ev1', user: 'U1' };

    expect(await feedback({ ...base, rating: 'bad' })).toBe(true);
    expect(await feedback({ ...base, rating: 'bad', reason: `  ${'x'.repeat(MAX_REASON_CHARS + 10)}  ` })).toBe(true);
    expect((await log.list(conversation.id))[0]?.feedback).toEqual({ rating: 'bad', reason: 'x'.repeat(MAX_REASON_CHARS), at: expect.any(String), user: 'U1' });
    expect(await counted(metrics)).toEqual({ 'slack/bad': 1 });

    expect(await feedback({ ...base, rating: 'good', reason: '   ' })).toBe(true);
    expect((await log.list(conversation.id))[0]?.feedback).toEqual({ rating: 'good', at: expect.any(String), user: 'U1' });
    expect(await counted(metrics)).toEqual({ 'slack/bad': 1, 'slack/good': 1 });
  });

  it("the same rating again without a reason (a double click) keeps that person's reason; another's or another rating does not", async () => {
    const log = new MemoryConversationLog();
    await log.record(entry);
    const metrics = createMetrics();
    const feedback = feedbackRecorder(log, metrics, logger);
    const base = { platform: 'slack', conversation, exchange: 'slack.Ev1', user: 'U1' };

    await feedback({ ...base, rating: 'bad' });
    await feedback({ ...base, rating: 'bad', reason: 'wrong order number' });
    expect(await feedback({ ...base, rating: 'bad' })).toBe(true);
    expect((await log.list(conversation.id))[0]?.feedback).toEqual({ rating: 'bad', reason: 'wrong order number', at: expect.any(String), user: 'U1' });
    expect(await counted(metrics)).toEqual({ 'slack/bad': 1 });

    await feedback({ ...base, rating: 'bad', user: 'U2' });
    expect((await log.list(conversation.id))[0]?.feedback).toEqual({ rating: 'bad', at: expect.any(String), user: 'U2' });
  });

  it('stores and counts nothing for an exchange the log does not hold', async () => {
    const log = new MemoryConversationLog();
    await log.record(entry);
    const metrics = createMetrics();
    const feedback = feedbackRecorder(log, metrics, logger);
    expect(await feedback({ platform: 'slack', conversation, exchange: 'slack.Ev2', rating: 'good' })).toBe(false);
    expect(await feedback({ platform: 'slack', conversation: { ...conversation, id: 'other' }, exchange: 'slack.Ev1', rating: 'good' })).toBe(false);
    expect(await counted(metrics)).toEqual({});
    expect((await log.list(conversation.id))[0]).not.toHaveProperty('feedback');
  });

  it('counts every rating when the conversation log cannot store them', async () => {
    const metrics = createMetrics();
    const feedback = feedbackRecorder({ record: async () => undefined, list: async () => [] }, metrics, logger);
    expect(await feedback({ platform: 'web', conversation: { platform: 'web', id: 'v' }, exchange: 'web.x', rating: 'good' })).toBe(true);
    expect(await counted(metrics)).toEqual({ 'web/good': 1 });
  });
});
