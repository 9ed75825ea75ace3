/**
 * GET /console/api/conversations: the conversation log searched with the console's filters, and
 * whether more match than it returned.
 */
import type { HttpResponse } from '../adapter.js';
import type { ConversationLog, ConversationQuery } from '../conversation-log.js';
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT } from '../conversation-search.js';
import { json } from '../http/responses.js';

/** `more`: more conversations match than were returned (a larger `limit`, up to 500, shows them). */
export async function conversations(log: ConversationLog, params: URLSearchParams): Promise<HttpResponse> {
  if (!log.search) return json(200, { conversations: [], searchable: false, more: false });
  const given = (name: string) => params.get(name)?.trim() || undefined;
  const sort = given('sort');
  const limit = limitOf(given('limit'));
  const query: ConversationQuery = {
    platform: given('platform'),
    user: given('user'),
    text: given('text'),
    sort: sort === 'wait' || sort === 'cost' ? sort : 'recent',
    // one more than shown: whether more match comes from the same scan
    limit: limit + 1,
  };
  const found = await log.search(query);
  return json(200, { conversations: found.slice(0, limit), searchable: true, more: found.length > limit });
}

/** `limit` held within 1…500 as a larger one always was (a fraction rounds down); the default (50) when absent or not a number. */
function limitOf(given: string | undefined): number {
  const limit = Number(given);
  if (given === undefined || Number.isNaN(limit)) return DEFAULT_SEARCH_LIMIT;
  return Math.min(Math.max(Math.floor(limit), 1), MAX_SEARCH_LIMIT);
}
