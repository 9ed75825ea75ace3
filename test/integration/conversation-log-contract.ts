/**
 * The ConversationLog contract, shared by every log that searches: `list` (oldest first, the
 * newest `limit`), `search` (filters, sorts, limits, summaries), `rate`, and `erase` for the logs
 * that have it. conversation-log.test.ts runs
 * it over MemoryConversationLog and RedisConversationLog, dynamodb-log.test.ts over
 * DynamoConversationLog.
 */
import { describe, expect, it } from 'vitest';
import type { ConversationEntry, ConversationLog, ConversationSummary } from '../../src/index.js';

/** A fresh, empty log (its own table, prefix or instance). */
export type CreateLog = () => Promise<ConversationLog & Required<Pick<ConversationLog, 'search'>>>;

/** An exchange at second `second` of a fixed minute. */
export function exchange(conversationId: string, second: number, extra: Partial<ConversationEntry> = {}): ConversationEntry {
  return {
    conversationId,
    timestamp: at(second),
    platform: 'slack',
    user: 'U1',
    input: `question ${second}`,
    output: `answer ${second}`,
    model: 'gpt-4o-mini',
    inputTokens: 100,
    outputTokens: 20,
    costUsd: 0.001,
    latencyMs: 100,
    ...extra,
  };
}

export function at(second: number): string {
  return new Date(Date.UTC(2026, 11, 1, 9, 0, 0) + second * 1000).toISOString();
}

/**
 * Three conversations, recorded in time order:
 *   slack   U1 (tenant T1)  seconds 1, 2, 5  latency 100/900/300  cost .001/.002/.003  two models
 *   web     visitor-1       seconds 3, 6     latency 200/250      cost .01 each
 *   whatsapp +4400          second 4         latency 5000         cost .0005
 */
export const FIXTURE: ConversationEntry[] = [
  exchange('slack-1', 1, { tenant: 'T1', input: 'Where is my ORDER?', output: 'Let me look.', costUsd: 0.001, latencyMs: 100 }),
  exchange('slack-1', 2, { tenant: 'T1', model: 'gpt-4o', input: 'order 1234', output: 'It shipped yesterday.', costUsd: 0.002, latencyMs: 900 }),
  exchange('web-1', 3, { platform: 'web', user: 'visitor-1', input: 'hello', output: 'Hi! How can I help?', model: 'gpt-4o', costUsd: 0.01, latencyMs: 200 }),
  exchange('wa-1', 4, { platform: 'whatsapp', user: '+4400', input: 'money back?', output: 'Your REFUND is on its way.', costUsd: 0.0005, latencyMs: 5000 }),
  exchange('slack-1', 5, { tenant: 'T1', input: 'thanks', output: 'You are welcome.', costUsd: 0.003, latencyMs: 300 }),
  exchange('web-1', 6, { platform: 'web', user: 'visitor-1', input: 'pricing?', output: 'See our plans page.', model: 'gpt-4o', costUsd: 0.01, latencyMs: 250 }),
];

async function recorded(create: CreateLog, entries = FIXTURE) {
  const log = await create();
  for (const entry of entries) await log.record(entry);
  return log;
}

const ids = (summaries: ConversationSummary[]) => summaries.map((s) => s.conversationId);

export interface ContractOptions {
  /** The log implements `erase` (optional in ConversationLog): run its tests too. */
  erase?: boolean;
}

/** The contract's tests over one implementation, as "ConversationLog contract (<name>)". */
export function describeConversationLogContract(name: string, create: CreateLog, options: ContractOptions = {}): void {
  describe(`ConversationLog contract (${name})`, () => {
    describe('list', () => {
      it("lists a conversation's entries oldest first, the newest `limit` of them, and nothing of other conversations", async () => {
        const log = await recorded(create);
        expect(await log.list('slack-1')).toEqual([FIXTURE[0], FIXTURE[1], FIXTURE[4]]);
        expect((await log.list('slack-1', 2)).map((e) => e.input)).toEqual(['order 1234', 'thanks']);
        expect(await log.list('slack-1', 1)).toEqual([FIXTURE[4]]);
        expect(await log.list('nobody')).toEqual([]);
      });

      it('a limit of 0 (or less) lists nothing, not everything', async () => {
        const log = await recorded(create);
        expect(await log.list('slack-1', 0)).toEqual([]);
        expect(await log.list('slack-1', -1)).toEqual([]);
      });
    });

    describe('search', () => {
      it('finds nothing in an empty log', async () => {
        const log = await create();
        expect(await log.search({})).toEqual([]);
      });

      it('lists every conversation, the latest exchange first, by default', async () => {
        const log = await recorded(create);
        expect(ids(await log.search({}))).toEqual(['web-1', 'slack-1', 'wa-1']);
        expect(ids(await log.search({ sort: 'recent' }))).toEqual(['web-1', 'slack-1', 'wa-1']);
      });

      it('summarises a conversation: its exchanges, cost added up, longest wait, models, first and latest exchange', async () => {
        const log = await recorded(create);
        const slack = (await log.search({})).find((s) => s.conversationId === 'slack-1');
        expect(slack).toEqual({
          conversationId: 'slack-1',
          platform: 'slack',
          user: 'U1',
          tenant: 'T1',
          firstAt: at(1),
          lastAt: at(5),
          exchanges: 3,
          lastInput: 'thanks',
          lastOutput: 'You are welcome.',
          costUsd: expect.closeTo(0.006, 10),
          maxLatencyMs: 900,
          models: ['gpt-4o-mini', 'gpt-4o'],
        });
        const whatsapp = (await log.search({ platform: 'whatsapp' }))[0];
        expect(whatsapp).toEqual({
          conversationId: 'wa-1',
          platform: 'whatsapp',
          user: '+4400',
          firstAt: at(4),
          lastAt: at(4),
          exchanges: 1,
          lastInput: 'money back?',
          lastOutput: 'Your REFUND is on its way.',
          costUsd: 0.0005,
          maxLatencyMs: 5000,
          models: ['gpt-4o-mini'],
        });
        expect(whatsapp).not.toHaveProperty('tenant');
      });

      it('keeps a message given up with the apology: marked apologised, its wait first in "waited longest", its user found, no model counted', async () => {
        const apology = exchange('web-2', 7, {
          platform: 'web',
          user: 'visitor-2',
          input: 'anyone there?',
          output: 'Sorry',
          outcome: 'apologised',
          model: 'none',
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0,
          latencyMs: 6000,
        });
        const log = await recorded(create, [...FIXTURE, apology]);
        expect(await log.list('web-2')).toEqual([apology]);
        expect(ids(await log.search({ sort: 'wait' }))).toEqual(['web-2', 'wa-1', 'slack-1', 'web-1']);
        const [waiter] = await log.search({ user: 'visitor-2' });
        expect(waiter).toMatchObject({ conversationId: 'web-2', exchanges: 1, apologised: 1, maxLatencyMs: 6000, costUsd: 0, models: [] });
        expect((await log.search({ platform: 'whatsapp' }))[0]).not.toHaveProperty('apologised');
      });

      it('filters by platform and by user, exactly', async () => {
        const log = await recorded(create);
        expect(ids(await log.search({ platform: 'web' }))).toEqual(['web-1']);
        expect(ids(await log.search({ platform: 'Web' }))).toEqual([]);
        expect(ids(await log.search({ user: 'U1' }))).toEqual(['slack-1']);
        expect(ids(await log.search({ user: 'U' }))).toEqual([]);
        expect(ids(await log.search({ platform: 'slack', user: '+4400' }))).toEqual([]);
        expect(ids(await log.search({ platform: 'teams' }))).toEqual([]);
      });

      it("finds text in what the person wrote or the bot answered, whatever its case, and summarises all the conversation's exchanges", async () => {
        const log = await recorded(create);
        const [slack, ...others] = await log.search({ text: 'order' }); // "Where is my ORDER?", "order 1234"
        expect(others).toEqual([]);
        expect(slack).toMatchObject({ conversationId: 'slack-1', exchanges: 3, lastInput: 'thanks' });
        expect(ids(await log.search({ text: 'refund' }))).toEqual(['wa-1']); // only in the answer, in capitals
        expect(ids(await log.search({ text: 'HELP' }))).toEqual(['web-1']);
        expect(ids(await log.search({ text: 'nowhere to be found' }))).toEqual([]);
      });

      it("finds one message by what support knows: part of the conversation's id (a channel, a number), its request id or job id; keeps the request id", async () => {
        const one = exchange('whatsapp:+14155238886:whatsapp:+15557654321', 7, { platform: 'whatsapp', user: '15557654321', id: 'whatsapp.SM1', requestId: 'req-7', outcome: 'apologised' });
        const log = await recorded(create, [...FIXTURE, exchange('T1:C0SUPPORT:1.2', 8, { requestId: 'req-8' }), one]);
        expect(ids(await log.search({ conversation: '+15557654321' }))).toEqual([one.conversationId]);
        expect(ids(await log.search({ conversation: 'c0support' }))).toEqual(['T1:C0SUPPORT:1.2']);
        expect(ids(await log.search({ conversation: 'req-7' }))).toEqual([one.conversationId]);
        expect(ids(await log.search({ conversation: 'whatsapp.SM1' }))).toEqual([one.conversationId]);
        expect(ids(await log.search({ conversation: 'req' }))).toEqual([]); // an id is matched whole
        expect(await log.list(one.conversationId)).toEqual([one]);
      });

      it('matches a conversation only when one exchange passes every filter', async () => {
        const log = await recorded(create);
        expect(ids(await log.search({ platform: 'slack', text: 'shipped' }))).toEqual(['slack-1']);
        expect(ids(await log.search({ platform: 'slack', text: 'refund' }))).toEqual([]);
        expect(ids(await log.search({ user: 'visitor-1', text: 'plans' }))).toEqual(['web-1']);
      });

      it("sorts by 'wait' (the longest latency first) and by 'cost' (the highest total first)", async () => {
        const log = await recorded(create);
        expect((await log.search({ sort: 'wait' })).map((s) => [s.conversationId, s.maxLatencyMs])).toEqual([
          ['wa-1', 5000],
          ['slack-1', 900],
          ['web-1', 250],
        ]);
        expect(ids(await log.search({ sort: 'cost' }))).toEqual(['web-1', 'slack-1', 'wa-1']);
        expect(ids(await log.search({ sort: 'cost', platform: 'slack' }))).toEqual(['slack-1']);
      });

      it('returns at most `limit` summaries, after sorting; 50 by default', async () => {
        const log = await recorded(create);
        expect(ids(await log.search({ limit: 2 }))).toEqual(['web-1', 'slack-1']);
        expect(ids(await log.search({ sort: 'wait', limit: 1 }))).toEqual(['wa-1']);
        expect(await log.search({ limit: 0 })).toEqual([]);
        for (let n = 0; n < 52; n++) await log.record(exchange(`many-${n}`, 10 + n));
        expect(await log.search({})).toHaveLength(50);
        expect(ids(await log.search({}))[0]).toBe('many-51');
        expect(await log.search({ limit: 100 })).toHaveLength(55);
      });
    });

    describe('rate', () => {
      const good = { rating: 'good' as const, at: at(10), user: 'U1' };
      const bad = { rating: 'bad' as const, reason: 'It did not ship.', at: at(11), user: 'U1' };
      const withIds = () => FIXTURE.map((entry, n) => ({ ...entry, id: `job-${n}` }));

      it("stores a rating with the exchange of that id, replacing an earlier one, and says what it replaced", async () => {
        const entries = withIds();
        const log = await recorded(create, entries);
        expect(await log.rate!('slack-1', 'job-1', good)).toEqual({});
        expect(await log.list('slack-1')).toEqual([entries[0], { ...entries[1], feedback: good }, entries[4]]);
        expect(await log.rate!('slack-1', 'job-1', bad)).toEqual({ previous: good });
        expect((await log.list('slack-1')).map((entry) => entry.feedback)).toEqual([undefined, bad, undefined]);
        expect(await log.list('web-1')).toEqual([entries[2], entries[5]]);
      });

      it('rates nothing for an exchange the conversation does not hold', async () => {
        const entries = withIds();
        const log = await recorded(create, entries);
        expect(await log.rate!('slack-1', 'job-2', good)).toBeUndefined(); // web-1's exchange
        expect(await log.rate!('slack-1', 'no-such-job', good)).toBeUndefined();
        expect(await log.rate!('nobody', 'job-1', good)).toBeUndefined();
        expect(await log.list('slack-1')).toEqual([entries[0], entries[1], entries[4]]);
      });

      it('rates the newest exchange of an id recorded twice (a retried job)', async () => {
        const log = await recorded(create, [exchange('c', 1, { id: 'job' }), exchange('c', 2, { id: 'job' })]);
        await log.rate!('c', 'job', good);
        expect((await log.list('c')).map((entry) => entry.feedback)).toEqual([undefined, good]);
      });

      it("counts a conversation's ratings in its summary", async () => {
        const log = await recorded(create, withIds());
        await log.rate!('slack-1', 'job-0', good);
        await log.rate!('slack-1', 'job-1', bad);
        await log.rate!('slack-1', 'job-4', good);
        const summaries = await log.search({});
        expect(summaries.find((s) => s.conversationId === 'slack-1')?.feedback).toEqual({ good: 2, bad: 1 });
        expect(summaries.find((s) => s.conversationId === 'web-1')).not.toHaveProperty('feedback');
        expect(ids(await log.search({ text: 'shipped' }))).toEqual(['slack-1']);
      });
    });

    describe.runIf(options.erase)('erase: a visitor deleting a conversation', () => {
      it("removes the conversation's entries from list and search, and nothing of the others", async () => {
        const log = await recorded(create);
        await log.erase!('web-1');
        expect(await log.list('web-1')).toEqual([]);
        expect(ids(await log.search({}))).toEqual(['slack-1', 'wa-1']);
        expect(await log.list('slack-1')).toEqual([FIXTURE[0], FIXTURE[1], FIXTURE[4]]);
        expect(await log.list('wa-1')).toEqual([FIXTURE[3]]);
        await log.record(exchange('web-1', 7, { platform: 'web' }));
        expect((await log.list('web-1')).map((e) => e.input)).toEqual(['question 7']);
      });

      it('erases every entry of a long conversation (more than one batch of 25)', async () => {
        const long = Array.from({ length: 60 }, (_, n) => exchange('long-1', 10 + n));
        const log = await recorded(create, [...FIXTURE, ...long]);
        expect(await log.list('long-1')).toHaveLength(60);
        await log.erase!('long-1');
        expect(await log.list('long-1')).toEqual([]);
        expect(ids(await log.search({}))).toEqual(['web-1', 'slack-1', 'wa-1']);
        expect(await log.list('web-1')).toEqual([FIXTURE[2], FIXTURE[5]]);
      });

      it('erasing a conversation the log does not hold is not an error and changes nothing', async () => {
        const log = await recorded(create);
        await log.erase!('nobody');
        expect(ids(await log.search({}))).toEqual(['web-1', 'slack-1', 'wa-1']);
        expect(await log.list('slack-1')).toEqual([FIXTURE[0], FIXTURE[1], FIXTURE[4]]);
        const empty = await create();
        await empty.erase!('nobody');
        expect(await empty.search({})).toEqual([]);
      });
    });
  });
}
