/**
 * The conversation log on Redis, shared by every process on the same Redis and prefix:
 *
 *   <prefix>:convlog:c:<conversationId>  a conversation's entries, oldest first (RPUSH), the newest
 *                                        500, expiring `ttlSeconds` after its latest exchange
 *   <prefix>:convlog:recent              the index: the newest `maxEntries` entries of every
 *                                        conversation, newest first (LPUSH), what `search` reads
 *
 * Each entry is stored as JSON. One record is one script (one command). A rating (`rate`)
 * rewrites its entry's JSON in both lists.
 */
import type { ConversationEntry, ConversationLog, ExchangeFeedback, RateResult } from './conversation-log.js';
import { searchConversations, type ConversationQuery, type ConversationSummary } from './conversation-search.js';
import { ConfigError } from './errors.js';
import type { RedisClient } from './store/redis-connection.js';
import { redisScript } from './store/redis-script.js';

export interface RedisConversationLogOptions {
  /** Put before every key (default `parley`); on a Redis Cluster it must hold a {hash tag}, e.g. `{parley}`. */
  prefix?: string;
  /** How many of the newest entries the index (and so `search`) holds; default 10 000. */
  maxEntries?: number;
  /** A conversation's entries expire this long after its latest exchange; default 30 days. */
  ttlSeconds?: number;
}

/** Drop a conversation's entries from the index (they are JSON) and delete its list, in one step. */
const ERASE = `
local items = redis.call('lrange', KEYS[2], 0, -1)
for _, item in ipairs(items) do
  local ok, entry = pcall(cjson.decode, item)
  if ok and type(entry) == 'table' and entry.conversationId == ARGV[1] then redis.call('lrem', KEYS[2], 0, item) end
end
return redis.call('del', KEYS[1])`;

/** Replace one entry's JSON (ARGV[1]) by ARGV[2] wherever it is, in each list of KEYS; how many were replaced (0: it changed meanwhile). */
const REPLACE = `
local replaced = 0
for _, key in ipairs(KEYS) do
  local items = redis.call('lrange', key, 0, -1)
  for i, item in ipairs(items) do
    if item == ARGV[1] then
      redis.call('lset', key, i - 1, ARGV[2])
      replaced = replaced + 1
    end
  end
end
return replaced`;
/**
 * Record one entry (ARGV[1]) in one command: appended to its conversation's list (KEYS[1]), kept to
 * the newest ARGV[2], and put first in the index (KEYS[2]), kept to ARGV[3]; both expire after
 * ARGV[4] seconds (the index outlives no conversation: it goes when nothing was recorded for as long).
 */
const recordEntry = redisScript(
  2,
  `redis.call('rpush', KEYS[1], ARGV[1])
redis.call('ltrim', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('expire', KEYS[1], ARGV[4])
redis.call('lpush', KEYS[2], ARGV[1])
redis.call('ltrim', KEYS[2], 0, tonumber(ARGV[3]) - 1)
redis.call('expire', KEYS[2], ARGV[4])
return 1`,
);
const erase = redisScript(2, ERASE);
const replace = redisScript(2, REPLACE);
/** A rating that raced another change of its entry tries again, this many times. */
const RATE_TRIES = 5;

/** The most entries kept per conversation (what `list` can return). */
export const CONVERSATION_ENTRIES_KEPT = 500;
const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_TTL_SECONDS = 30 * 24 * 3600;

/** Every exchange in Redis: a list per conversation and a capped index of the newest, for the console. */
export class RedisConversationLog implements ConversationLog {
  readonly prefix: string;
  readonly maxEntries: number;
  readonly ttlSeconds: number;

  /** The connection stays yours: the log never closes it (it has no `close`). */
  constructor(
    private readonly redis: RedisClient,
    options: RedisConversationLogOptions = {},
  ) {
    this.prefix = options.prefix ?? 'parley';
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new ConfigError(`RedisConversationLog: maxEntries must be a positive integer, not ${this.maxEntries}`);
    if (!(this.ttlSeconds > 0)) throw new ConfigError(`RedisConversationLog: ttlSeconds must be positive, not ${this.ttlSeconds}`);
    // a record writes both keys together: in one slot, they go to one node in one write
    if (redis.isCluster && !/\{[^}]+\}/.test(this.prefix)) {
      throw new ConfigError(`RedisConversationLog: on a Redis Cluster the prefix needs a {hash tag} so its keys share a slot (e.g. "{${this.prefix}}"), not "${this.prefix}"`);
    }
  }

  /** The key of one conversation's entries. */
  conversationKey(conversationId: string): string {
    return `${this.prefix}:convlog:c:${conversationId}`;
  }

  /** The key of the index `search` reads. */
  get indexKey(): string {
    return `${this.prefix}:convlog:recent`;
  }

  async record(entry: ConversationEntry): Promise<void> {
    const key = this.conversationKey(entry.conversationId);
    await recordEntry(this.redis, key, this.indexKey, JSON.stringify(entry), CONVERSATION_ENTRIES_KEPT, this.maxEntries, Math.ceil(this.ttlSeconds));
  }

  /** The newest `limit` entries of a conversation (at most 500 are kept), oldest first. */
  async list(conversationId: string, limit = 100): Promise<ConversationEntry[]> {
    const count = Math.floor(limit);
    if (!(count > 0)) return []; // LRANGE -0 -1 would be all of them
    return parseEntries(await this.redis.lrange(this.conversationKey(conversationId), -count, -1));
  }

  /** Erase a conversation: its entries and its exchanges in the index. */
  async erase(conversationId: string): Promise<void> {
    await erase(this.redis, this.conversationKey(conversationId), this.indexKey, conversationId);
  }

  /**
   * Rate an exchange: its entry's JSON is replaced, in the conversation's list and in the index,
   * only while it is still what was read (another rating meanwhile: read again).
   */
  async rate(conversationId: string, exchangeId: string, feedback: ExchangeFeedback): Promise<RateResult | undefined> {
    const key = this.conversationKey(conversationId);
    for (let attempt = 1; ; attempt++) {
      const values = await this.redis.lrange(key, 0, -1);
      const index = values.findLastIndex((value) => parseEntries([value])[0]?.id === exchangeId);
      const value = values[index];
      if (value === undefined) return undefined;
      const entry = parseEntries([value])[0]!;
      const replaced = Number(await replace(this.redis, key, this.indexKey, value, JSON.stringify({ ...entry, feedback })));
      if (replaced > 0) return entry.feedback ? { previous: entry.feedback } : {};
      if (attempt >= RATE_TRIES) throw new Error('RedisConversationLog: the exchange kept changing while it was rated');
    }
  }

  /** Over the index: the newest `maxEntries` exchanges of every conversation. */
  async search(query: ConversationQuery = {}): Promise<ConversationSummary[]> {
    const newestFirst = parseEntries(await this.redis.lrange(this.indexKey, 0, this.maxEntries - 1));
    return searchConversations(newestFirst.reverse(), query);
  }
}

/** The entries among `values`; one that is not an entry's JSON is left out (it never breaks a read). */
function parseEntries(values: string[]): ConversationEntry[] {
  const entries: ConversationEntry[] = [];
  for (const value of values) {
    try {
      const entry = JSON.parse(value) as Partial<ConversationEntry> | null;
      if (entry && [entry.conversationId, entry.timestamp, entry.platform, entry.user, entry.input, entry.output].every((field) => typeof field === 'string')) {
        entries.push(entry as ConversationEntry);
      }
    } catch {
      // not JSON: skipped
    }
  }
  return entries;
}
