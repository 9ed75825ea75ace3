/**
 * GET /console/api/conversations: the conversation log searched with the console's filters, and
 * whether more match than it returned.
 */
import type { HttpResponse } from '../adapter.js';
import type { ConversationLog, ConversationQuery } from '../conversation-log.js';
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT } from '../conversation-search.js';
import { json } from '../http/responses.js';
import { pageLimitOf } from './page-limit.js';

/** `more`: more conversations match than were returned (a larger `limit`, up to 500, shows them). */
export async function conversations(log: ConversationLog, params: URLSearchParams): Promise<HttpResponse> {
  if (!log.search) return json(200, { conversations: [], searchable: false, more: false });
  const given = (name: string) => params.get(name)?.trim() || undefined;
  const sort = given('sort');
  // held within 1…500 as a larger one always was
  const limit = pageLimitOf(given('limit'), DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT);
  const query: ConversationQuery = {
    platform: given('platform'),
    user: given('user'),
    text: given('text'),
    conversation: given('conversation'),
    sort: sort === 'wait' || sort === 'cost' ? sort : 'recent',
    // one more than shown: whether more match comes from the same scan
    limit: limit + 1,
  };
  const found = await log.search(query);
  return json(200, { conversations: found.slice(0, limit), searchable: true, more: found.length > limit });
}

/** Exchanges a transcript shows: the newest, as many as a conversation on Redis keeps (CONVERSATION_ENTRIES_KEPT). */
const TRANSCRIPT_LIMIT = 500;

/** `more`: older exchanges are recorded than the transcript shows (the list's count includes them). */
export async function transcript(log: ConversationLog, id: string): Promise<HttpResponse> {
  // one more than shown: whether older ones are left out comes from the same read
  const entries = await log.list(id, TRANSCRIPT_LIMIT + 1);
  return json(200, { conversationId: id, entries: entries.slice(-TRANSCRIPT_LIMIT), more: entries.length > TRANSCRIPT_LIMIT });
}
