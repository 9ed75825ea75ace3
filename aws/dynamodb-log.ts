/**
 * The conversation log on DynamoDB, in the seed's table (`ai_conversations` by default): one item
 * per exchange, `conversation_id` the hash key and `timestamp` (ISO 8601) the range key, so a
 * conversation reads back in order with one Query.
 *
 *   conversation_id, timestamp, platform, user_id, tenant?, input, output, model,
 *   input_tokens, output_tokens, cost_usd, latency_ms, exchange_id?, outcome? ('apologised' for a
 *   message given up, 'withheld' for an answer not posted), feedback? (a map: rating, reason?, at, user?),
 *   expires_at? (epoch seconds, the table's TTL attribute: only with `ttlSeconds`, else a row is kept)
 */
import { isDeepStrictEqual } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  DEFAULT_CONVERSATION_LOG_TABLE,
  type ConversationEntry,
  type ConversationLog,
  type ConversationQuery,
  type ConversationSummary,
  type ExchangeFeedback,
  type RateResult,
} from '../src/index.js';
import { searchConversations } from '../src/conversation-search.js';
import { dynamoDbAccess, isConditionFailed, type DynamoDbAccess } from './dynamodb-sdk.js';
import { fitLogItem } from './dynamodb-log-size.js';

export interface DynamoConversationLogOptions {
  /** The table's literal name (CONVERSATION_LOG_TABLE); default `ai_conversations`, the seed's. */
  tableName?: string;
  /** Your own client (you close it); default: one from the environment (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB). */
  client?: DynamoDBClient;
  /**
   * How long a row is kept (CONVERSATION_LOG_TTL_SECONDS): it carries `expires_at`, and DynamoDB's TTL
   * (`parley aws setup` turns it on) deletes it, within about two days after. Unset: every row is kept.
   */
  ttlSeconds?: number;
  /** How many items `search` scans at most (default 10 000): a Scan reads the whole table, so it stops there. */
  searchScanLimit?: number;
  /** How many of the newest scanned exchanges (by timestamp) `search` summarises; default 10 000. */
  searchMaxEntries?: number;
}

/** One exchange as the table holds it (snake_case, as the seed's table has it). */
export interface ConversationItem {
  conversation_id: string;
  timestamp: string;
  platform: string;
  user_id: string;
  tenant?: string;
  input: string;
  output: string;
  /** 'apologised': given up, the person got the apology; 'withheld': the answer was not posted (absent: answered). */
  outcome?: 'answered' | 'apologised' | 'withheld';
  model: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  latency_ms: number;
  /** The exchange's id (the job that answered), what a rating names. */
  exchange_id?: string;
  /** The webhook's X-Request-Id (ConversationEntry.requestId). */
  request_id?: string;
  feedback?: ExchangeFeedback;
  /** Epoch seconds: DynamoDB's TTL deletes the row after it (only with `ttlSeconds`). */
  expires_at?: number;
  /** Its input and output were cut to fit DynamoDB's 400 KB item (dynamodb-log-size.ts). */
  truncated?: boolean;
}

/** Two exchanges of a conversation in the same millisecond are rare (one worker at a time holds it); a later one moves on by 1 ms. */
const SAME_MILLISECOND_TRIES = 5;

/** BatchWriteItem takes at most 25 requests. */
const BATCH_SIZE = 25;
/** How many times a batch's UnprocessedItems are sent again (throttling), waiting 50, 100, 200… ms. */
const UNPROCESSED_RETRIES = 5;

/** Every exchange as an item of the seed's `ai_conversations` table. */
export class DynamoConversationLog implements ConversationLog {
  private readonly dynamo: DynamoDbAccess;
  readonly tableName: string;
  private readonly searchScanLimit: number;
  private readonly searchMaxEntries: number;
  private readonly ttlSeconds?: number;

  /** Loads the AWS SDK; throws MissingDependencyError naming the install command when it is missing. */
  constructor(options: DynamoConversationLogOptions = {}) {
    this.dynamo = dynamoDbAccess('DynamoConversationLog', options.client);
    this.tableName = options.tableName ?? DEFAULT_CONVERSATION_LOG_TABLE;
    this.searchScanLimit = options.searchScanLimit ?? 10_000;
    this.searchMaxEntries = options.searchMaxEntries ?? 10_000;
    this.ttlSeconds = options.ttlSeconds;
  }

  /**
   * Write the exchange; never overwrites another one with the same key (it moves on by a millisecond
   * instead). A write the SDK retried (its answer lost: a 500, a reset) may have been applied: the
   * retry then finds this very exchange at the key, and it is written already.
   */
  async record(entry: ConversationEntry): Promise<void> {
    const { PutCommand, GetCommand } = this.dynamo.sdk.lib;
    // Counted from the write, not the exchange's timestamp: a row is kept its whole time whenever it lands.
    let item: ConversationItem = { ...fitLogItem(toItem(entry)), ...(this.ttlSeconds ? { expires_at: Math.ceil(Date.now() / 1000) + this.ttlSeconds } : {}) };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dynamo.documents.send(
          new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(conversation_id)' }),
        );
        return;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        const key = { conversation_id: item.conversation_id, timestamp: item.timestamp };
        const { Item: found } = await this.dynamo.documents.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
        if (found && sameExchange(found as ConversationItem, item)) return;
        if (attempt >= SAME_MILLISECOND_TRIES) throw error;
        item = { ...item, timestamp: new Date(Date.parse(item.timestamp) + 1).toISOString() };
      }
    }
  }

  /** The newest `limit` exchanges of a conversation, oldest first. */
  async list(conversationId: string, limit = 100): Promise<ConversationEntry[]> {
    const count = Math.floor(limit);
    if (!(count > 0)) return []; // DynamoDB refuses a Limit of 0
    const items: ConversationItem[] = [];
    // A page stops at 1 MB: long exchanges take several to make `limit`.
    const query = { KeyConditionExpression: 'conversation_id = :id', ExpressionAttributeValues: { ':id': conversationId }, ScanIndexForward: false };
    for await (const page of this.pages(query, () => count - items.length)) {
      items.push(...page);
      if (items.length >= count) break;
    }
    return items.map(fromItem).reverse();
  }

  /**
   * Rate an exchange: a Query of the conversation for its newest item with that `exchange_id`,
   * then an UpdateItem of that item's `feedback` (only while the item exists).
   */
  async rate(conversationId: string, exchangeId: string, feedback: ExchangeFeedback): Promise<RateResult | undefined> {
    const { UpdateCommand } = this.dynamo.sdk.lib;
    let item: ConversationItem | undefined;
    const query = {
      KeyConditionExpression: 'conversation_id = :id',
      FilterExpression: 'exchange_id = :exchange',
      ExpressionAttributeValues: { ':id': conversationId, ':exchange': exchangeId },
      ScanIndexForward: false,
    };
    for await (const page of this.pages(query)) {
      item = page[0];
      if (item) break;
    }
    if (!item) return undefined;
    try {
      await this.dynamo.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { conversation_id: item.conversation_id, timestamp: item.timestamp },
          UpdateExpression: 'SET feedback = :feedback',
          ConditionExpression: 'attribute_exists(conversation_id)',
          ExpressionAttributeValues: { ':feedback': feedback },
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) return undefined; // deleted meanwhile
      throw error;
    }
    return item.feedback ? { previous: item.feedback } : {};
  }

  /**
   * Erase a conversation (a visitor deleting it): a Query of its keys, page by page, each page's
   * items deleted with BatchWriteItem, 25 at a time, its UnprocessedItems sent again a few times.
   */
  async erase(conversationId: string): Promise<void> {
    const query = {
      KeyConditionExpression: 'conversation_id = :id',
      ExpressionAttributeValues: { ':id': conversationId },
      ProjectionExpression: 'conversation_id, #t',
      ExpressionAttributeNames: { '#t': 'timestamp' }, // a reserved word
    };
    for await (const page of this.pages(query)) {
      for (let n = 0; n < page.length; n += BATCH_SIZE) await this.deleteBatch(page.slice(n, n + BATCH_SIZE));
    }
  }

  /** A Query's items, page by page (a page stops at 1 MB); `limit` says how many the next page may hold. */
  private async *pages(query: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>, limit?: () => number): AsyncGenerator<ConversationItem[]> {
    const { QueryCommand } = this.dynamo.sdk.lib;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.dynamo.documents.send(new QueryCommand({ TableName: this.tableName, ...query, ...(limit ? { Limit: limit() } : {}), ExclusiveStartKey: start }));
      yield (page.Items ?? []) as ConversationItem[];
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** Delete up to 25 items by key, sending UnprocessedItems again; throws if some stay unprocessed. */
  private async deleteBatch(keys: Pick<ConversationItem, 'conversation_id' | 'timestamp'>[]): Promise<void> {
    const { BatchWriteCommand } = this.dynamo.sdk.lib;
    let requests = keys.map((key) => ({ DeleteRequest: { Key: { conversation_id: key.conversation_id, timestamp: key.timestamp } } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > UNPROCESSED_RETRIES) {
        throw new Error(`DynamoConversationLog.erase: ${requests.length} items of ${this.tableName} stayed unprocessed`);
      }
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** (attempt - 1)));
      const { UnprocessedItems } = await this.dynamo.documents.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
    }
  }

  /**
   * A Scan of up to `searchScanLimit` items (the table has no index by time: on a table larger
   * than that, which items are seen is DynamoDB's order), of which the newest `searchMaxEntries`
   * by timestamp are searched.
   */
  async search(query: ConversationQuery = {}): Promise<ConversationSummary[]> {
    const { ScanCommand } = this.dynamo.sdk.lib;
    const items: ConversationItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.dynamo.documents.send(
        new ScanCommand({ TableName: this.tableName, Limit: this.searchScanLimit - items.length, ExclusiveStartKey: start }),
      );
      items.push(...((page.Items ?? []) as ConversationItem[]));
      start = page.LastEvaluatedKey;
    } while (start && items.length < this.searchScanLimit);
    const newest = items
      .map(fromItem)
      .sort((a, b) => a.timestamp.localeCompare(b.timestamp))
      .slice(-this.searchMaxEntries);
    return searchConversations(newest, query);
  }

  /** Destroys the client parley made (one passed in is yours to close). */
  async close(): Promise<void> {
    this.dynamo.close();
  }
}

/** The exchange `ours` is: the same exchange id, or (an apology has none) the same attributes, a later rating aside. */
function sameExchange(found: ConversationItem, ours: ConversationItem): boolean {
  if (ours.exchange_id !== undefined) return found.exchange_id === ours.exchange_id;
  return Object.entries(ours).every(([name, value]) => value === undefined || name === 'feedback' || isDeepStrictEqual(found[name as keyof ConversationItem], value));
}

export function toItem(entry: ConversationEntry): ConversationItem {
  return {
    conversation_id: entry.conversationId,
    timestamp: entry.timestamp,
    platform: entry.platform,
    user_id: entry.user,
    tenant: entry.tenant,
    input: entry.input,
    output: entry.output,
    ...(entry.outcome === undefined ? {} : { outcome: entry.outcome }),
    model: entry.model,
    input_tokens: entry.inputTokens,
    output_tokens: entry.outputTokens,
    cost_usd: entry.costUsd,
    latency_ms: entry.latencyMs,
    exchange_id: entry.id,
    request_id: entry.requestId,
    feedback: entry.feedback,
  };
}

function fromItem(item: ConversationItem): ConversationEntry {
  return {
    conversationId: item.conversation_id,
    timestamp: item.timestamp,
    platform: item.platform,
    user: item.user_id,
    ...(item.tenant === undefined ? {} : { tenant: item.tenant }),
    input: item.input,
    output: item.output,
    ...(item.outcome === undefined ? {} : { outcome: item.outcome }),
    model: item.model,
    inputTokens: item.input_tokens,
    outputTokens: item.output_tokens,
    costUsd: item.cost_usd,
    latencyMs: item.latency_ms,
    ...(item.exchange_id === undefined ? {} : { id: item.exchange_id }),
    ...(item.request_id === undefined ? {} : { requestId: item.request_id }),
    ...(item.feedback === undefined ? {} : { feedback: item.feedback }),
  };
}
