/**
 * searchConversations, the summarising every searching ConversationLog shares: what the contract
 * (test/integration/conversation-log-contract.ts) cannot reach cheaply through a log — the 501 cap,
 * entries out of order, ties, and a console's odd query values.
 */
import { describe, expect, it } from 'vitest';
import { MAX_SEARCH_LIMIT, searchConversations, searchLimit, type ConversationQuery } from '../../src/conversation-search.js';
import { at, exchange, FIXTURE } from '../integration/conversation-log-contract.js';

const ids = (entries = FIXTURE, query: ConversationQuery = {}) => searchConversations(entries, query).map((s) => s.conversationId);

describe('searchConversations', () => {
  it('gives the same summaries whatever order the entries come in', () => {
    expect(searchConversations([...FIXTURE].reverse())).toEqual(searchConversations(FIXTURE));
    expect(searchConversations([FIXTURE[4]!, FIXTURE[0]!, FIXTURE[1]!])[0]).toMatchObject({ firstAt: at(1), lastAt: at(5), lastInput: 'thanks' });
  });

  it('takes the later of two exchanges in the same millisecond to be the one given later', () => {
    const [summary] = searchConversations([exchange('c', 1, { input: 'first' }), exchange('c', 1, { input: 'second' })]);
    expect(summary).toMatchObject({ exchanges: 2, firstAt: at(1), lastAt: at(1), lastInput: 'second' });
  });

  it('breaks a tie of wait or cost by the latest exchange, then by id', () => {
    const entries = [exchange('b', 1), exchange('a', 1), exchange('c', 2)];
    expect(ids(entries, { sort: 'wait' })).toEqual(['c', 'a', 'b']);
    expect(ids(entries, { sort: 'cost' })).toEqual(['c', 'a', 'b']);
    expect(ids(entries)).toEqual(['c', 'a', 'b']);
  });

  it("sorts by 'recent' when the sort is one it does not know (a console's query string)", () => {
    expect(ids(FIXTURE, { sort: 'loudest' as ConversationQuery['sort'] })).toEqual(['web-1', 'slack-1', 'wa-1']);
  });

  it('an empty text filters nothing', () => {
    expect(ids(FIXTURE, { text: '' })).toEqual(['web-1', 'slack-1', 'wa-1']);
  });

  it('returns 501 summaries at most (the console shows 500 and one more tells it there are more), however many are asked for', () => {
    const many = Array.from({ length: 502 }, (_, n) => exchange(`c${n}`, n));
    expect(searchConversations(many, { limit: 10_000 })).toHaveLength(MAX_SEARCH_LIMIT + 1);
    expect(searchConversations(many, { limit: Number.POSITIVE_INFINITY })).toHaveLength(MAX_SEARCH_LIMIT + 1);
  });

  it('reads a limit: the default when missing or not a number, whole, within 0…501', () => {
    expect([undefined, Number.NaN, 50.9, 7, 0, -3, 501, 502].map(searchLimit)).toEqual([50, 50, 50, 7, 0, 0, 501, 501]);
  });
});
