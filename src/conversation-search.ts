/**
 * Searching the conversation log (the operator console's conversations view): entries in,
 * filtered and sorted summaries out, one per conversation. Every ConversationLog that searches
 * (memory, Redis, DynamoDB) reads its entries its own way and hands them to `searchConversations`.
 */
import type { ConversationEntry } from './conversation-log.js';

export interface ConversationQuery {
  /** Only conversations with an exchange on this platform (exact). */
  platform?: string;
  /** Only conversations with an exchange from this user id (exact). */
  user?: string;
  /** Case-insensitive substring of what the person wrote or the bot answered. */
  text?: string;
  /**
   * Case-insensitive substring of the conversation's id (a Slack channel id, a WhatsApp number),
   * or a message's request id or job id (exact): what support knows of one message.
   */
  conversation?: string;
  /**
   * 'recent' (the latest exchange newest first, the default), 'wait' (the longest latency first:
   * who waited longest, answered or apologised) or 'cost' (the highest total cost first).
   */
  sort?: 'recent' | 'wait' | 'cost';
  /**
   * How many summaries at most: default 50, at most 501 (the console shows up to 500 and asks for
   * one more to tell whether more match).
   */
  limit?: number;
}

/** One conversation as far as the log's index holds it. */
export interface ConversationSummary {
  conversationId: string;
  /** Platform, user and tenant of its latest exchange. */
  platform: string;
  user: string;
  tenant?: string;
  /** ISO 8601 times of its first and latest exchange. */
  firstAt: string;
  lastAt: string;
  exchanges: number;
  /** What the person wrote and the bot answered in its latest exchange. */
  lastInput: string;
  lastOutput: string;
  /** The exchanges' costs added up. */
  costUsd: number;
  /** The longest anyone waited in it: to an answer, or to the apology of a message given up. */
  maxLatencyMs: number;
  /** How many of its messages got the apology instead of an answer; absent when none did. */
  apologised?: number;
  /** Every model that answered, in the order they first did. */
  models: string[];
  /** How many of its answers were rated 👍 (good) and 👎 (bad); absent when none was. */
  feedback?: { good: number; bad: number };
}

export const DEFAULT_SEARCH_LIMIT = 50;
/** The most conversations the console's API answers with at once. */
export const MAX_SEARCH_LIMIT = 500;

/**
 * The conversations with at least one entry matching every filter of `query` (platform and user
 * exact, text a case-insensitive substring of input or output), each summarising all of its
 * `entries`, sorted and cut to the limit. `entries` may come in any order; entries with the same
 * timestamp count in the order given.
 */
export function searchConversations(entries: Iterable<ConversationEntry>, query: ConversationQuery = {}): ConversationSummary[] {
  const byConversation = new Map<string, ConversationEntry[]>();
  for (const entry of entries) {
    const list = byConversation.get(entry.conversationId);
    if (list) list.push(entry);
    else byConversation.set(entry.conversationId, [entry]);
  }
  const matches = entryFilter(query);
  const summaries: ConversationSummary[] = [];
  for (const list of byConversation.values()) {
    if (list.some(matches)) summaries.push(summarise(list));
  }
  // an unknown sort (a console's query string) falls back to 'recent'
  return summaries.sort(ORDER[query.sort ?? 'recent'] ?? byRecent).slice(0, searchLimit(query.limit));
}

/**
 * The limit a query asks for, within 0…MAX_SEARCH_LIMIT + 1 (the default when it is missing or not
 * a number): one past the maximum, so a caller showing the maximum still learns whether more match.
 */
export function searchLimit(limit: number | undefined): number {
  if (limit === undefined || Number.isNaN(limit)) return DEFAULT_SEARCH_LIMIT;
  return Math.min(Math.max(Math.floor(limit), 0), MAX_SEARCH_LIMIT + 1);
}

function entryFilter({ platform, user, text, conversation }: ConversationQuery): (entry: ConversationEntry) => boolean {
  const needle = text?.toLowerCase();
  const which = conversation?.toLowerCase();
  return (entry) =>
    (platform === undefined || entry.platform === platform) &&
    (user === undefined || entry.user === user) &&
    (!needle || entry.input.toLowerCase().includes(needle) || entry.output.toLowerCase().includes(needle)) &&
    (!which || entry.conversationId.toLowerCase().includes(which) || entry.requestId === conversation || entry.id === conversation);
}

/** One conversation's entries (at least one) as its summary. */
function summarise(entries: ConversationEntry[]): ConversationSummary {
  // a stable sort: entries of the same millisecond keep the order they came in
  const ordered = [...entries].sort((a, b) => compareTimes(a.timestamp, b.timestamp));
  const first = ordered[0] as ConversationEntry;
  const last = ordered[ordered.length - 1] as ConversationEntry;
  const models: string[] = [];
  let costUsd = 0;
  let maxLatencyMs = 0;
  let apologised = 0;
  const ratings = { good: 0, bad: 0 };
  for (const entry of ordered) {
    costUsd += entry.costUsd;
    maxLatencyMs = Math.max(maxLatencyMs, entry.latencyMs);
    if (entry.outcome === 'apologised') apologised++;
    else if (!models.includes(entry.model)) models.push(entry.model);
    const rating = entry.feedback?.rating;
    if (rating === 'good' || rating === 'bad') ratings[rating]++;
  }
  return {
    conversationId: last.conversationId,
    platform: last.platform,
    user: last.user,
    ...(last.tenant === undefined ? {} : { tenant: last.tenant }),
    firstAt: first.timestamp,
    lastAt: last.timestamp,
    exchanges: ordered.length,
    lastInput: last.input,
    lastOutput: last.output,
    costUsd,
    maxLatencyMs,
    ...(apologised > 0 ? { apologised } : {}),
    models,
    ...(ratings.good + ratings.bad > 0 ? { feedback: ratings } : {}),
  };
}

function compareTimes(a: string, b: string): number {
  return (Date.parse(a) || 0) - (Date.parse(b) || 0);
}

type Order = (a: ConversationSummary, b: ConversationSummary) => number;

/** Newest latest exchange first; the tie-break of the other orders too. */
const byRecent: Order = (a, b) => compareTimes(b.lastAt, a.lastAt) || a.conversationId.localeCompare(b.conversationId);

const ORDER: Record<NonNullable<ConversationQuery['sort']>, Order> = {
  recent: byRecent,
  wait: (a, b) => b.maxLatencyMs - a.maxLatencyMs || byRecent(a, b),
  cost: (a, b) => b.costUsd - a.costUsd || byRecent(a, b),
};
