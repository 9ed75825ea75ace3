import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConversationTurns, holdBudgetMs } from '../../src/conversation-turns.js';

const logger = pino({ level: 'silent' });
const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('ConversationTurns (in-process answers, one conversation at a time)', () => {
  it('lets a conversation\'s messages go one after the other, in the order their turns were taken; other conversations do not wait', async () => {
    const turns = new ConversationTurns(60_000, logger);
    const first = turns.take('whatsapp:a');
    const second = turns.take('whatsapp:a');
    const third = turns.take('whatsapp:a');
    const other = turns.take('whatsapp:b');
    expect([await settled(first.ready), await settled(second.ready), await settled(other.ready)]).toEqual([true, false, true]);
    first.done();
    expect([await settled(second.ready), await settled(third.ready)]).toEqual([true, false]);
    second.done();
    second.done(); // idempotent
    expect(await settled(third.ready)).toBe(true);
    third.done();
    other.done();
    await new Promise((resolve) => setImmediate(resolve));
    expect(turns.size).toBe(0);
  });

  it('a turn out before it came (a duplicate) keeps the ones after it behind the one before it', async () => {
    const turns = new ConversationTurns(60_000, logger);
    const first = turns.take('c');
    const duplicate = turns.take('c');
    const third = turns.take('c');
    duplicate.done();
    expect(await settled(third.ready)).toBe(false);
    first.done();
    expect(await settled(third.ready)).toBe(true);
  });

  it('a message that holds its turn past the budget lets the next one go', async () => {
    const turns = new ConversationTurns(50, logger);
    turns.take('d');
    const next = turns.take('d');
    expect(await settled(next.ready)).toBe(false);
    const started = Date.now();
    await next.ready;
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('the budget is AI_MAX_WAIT_MS plus the backoffs between the tries', () => {
    expect(holdBudgetMs(600_000, { attempts: 3, backoffMs: 2000, maxBackoffMs: 300_000 })).toBe(600_000 + 2000 + 4000);
    expect(holdBudgetMs(1000, { attempts: 1, backoffMs: 2000, maxBackoffMs: 300_000 })).toBe(1000);
  });
});
