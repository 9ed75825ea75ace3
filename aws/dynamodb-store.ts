/**
 * The Store on DynamoDB: one table (`<DYNAMODB_TABLE_PREFIX>-store`), one item per key.
 *
 *   key            S  the hash key (namespace + key)
 *   value          S  a value, a claim or a lock's owner token
 *   items          L  a list (history, a web transcript), oldest first, capped on push
 *   expires_at     N  epoch seconds, the table's TTL attribute (DynamoDB deletes within ~2 days)
 *   expires_at_ms  N  epoch milliseconds, what parley checks: an expired item reads as absent
 *
 * Claims and locks are conditional writes; no transactions (dynalite has none). Expiry is
 * checked on read and in every condition, because TTL deletion is late and emulators never do it.
 * The clocks of the processes sharing a table decide expiry, as Redis's clock does for RedisStore.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Store } from '../src/index.js';
import { ACK_CALL_MS, within } from './deadlines.js';
import { dynamoDbAccess, isConditionFailed, type DynamoDbAccess } from './dynamodb-sdk.js';

export interface DynamoStoreOptions {
  /** The table, e.g. `storeTableName(prefix)`; `parley aws setup` creates it. */
  tableName: string;
  /** Put before every key, so several bots (or test runs) can share one table. */
  namespace?: string;
  /** Your own client (you close it); default: one from the environment (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB), with per-attempt deadlines. */
  client?: DynamoDBClient;
}

interface Item {
  key: string;
  value?: string;
  items?: string[];
  expires_at?: number;
  expires_at_ms?: number;
}

/** Attribute names in expressions (`key`, `value` and `items` are DynamoDB reserved words). */
const names = { '#k': 'key', '#v': 'value', '#items': 'items', '#s': 'expires_at', '#ms': 'expires_at_ms' };
const LIVE = '(attribute_not_exists(#ms) OR #ms > :now)';
/** Each REMOVE names one index; this keeps a trim expression far below DynamoDB's 4 KB limit. */
const MAX_REMOVED_PER_TRIM = 100;
/** Tries of a conditional list update racing other writers, before the error is the caller's. */
const MAX_ROUNDS = 10;

/** The store's table name for a DYNAMODB_TABLE_PREFIX. */
export function storeTableName(prefix: string): string {
  return `${prefix}-store`;
}

/** Keys, claims, capped lists and leases on DynamoDB, for processes and functions sharing state. */
export class DynamoStore implements Store {
  private readonly dynamo: DynamoDbAccess;
  private readonly table: string;
  private readonly namespace: string;

  /** Loads the AWS SDK; throws MissingDependencyError naming the install command when it is missing. */
  constructor(options: DynamoStoreOptions) {
    this.dynamo = dynamoDbAccess('DynamoStore', options.client);
    this.table = options.tableName;
    this.namespace = options.namespace ?? '';
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.read(key))?.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const { PutCommand } = this.dynamo.sdk.lib;
    await this.dynamo.documents.send(new PutCommand({ TableName: this.table, Item: { key: this.namespace + key, value, ...expiry(ttlMs) } }));
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const { PutCommand } = this.dynamo.sdk.lib;
    return this.conditional(() =>
      this.dynamo.documents.send(new PutCommand({
        TableName: this.table,
        Item: { key: this.namespace + key, value, ...expiry(ttlMs) },
        // absent, or present but expired (not yet deleted by TTL)
        ConditionExpression: 'attribute_not_exists(#k) OR #ms <= :now',
        ExpressionAttributeNames: { '#k': names['#k'], '#ms': names['#ms'] },
        ExpressionAttributeValues: { ':now': Date.now() },
      }), this.ackDeadline('PutItem')),
    );
  }

  async delete(key: string): Promise<void> {
    const { DeleteCommand } = this.dynamo.sdk.lib;
    await this.dynamo.documents.send(new DeleteCommand({ TableName: this.table, Key: { key: this.namespace + key } }), this.ackDeadline('DeleteItem'));
  }

  /**
   * An atomic append (list_append), then, when over `maxLength`, removal of the oldest items on
   * the condition that the list still has the length seen: removing the first n of a list of a
   * known length is right whoever appended, so concurrent pushes need no read-modify-write.
   * Without `ttlMs` the list keeps its expiry, as RPUSH does.
   */
  async listPush(key: string, values: string[], options: { maxLength?: number; ttlMs?: number } = {}): Promise<void> {
    if (values.length === 0) return;
    const { UpdateCommand } = this.dynamo.sdk.lib;
    const ttl = expiry(options.ttlMs);
    for (let round = 1; ; round++) {
      try {
        const { Attributes } = await this.dynamo.documents.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { key: this.namespace + key },
            UpdateExpression: `SET #items = list_append(if_not_exists(#items, :empty), :values)${ttl.expires_at ? ', #s = :s, #ms = :ms' : ''}`,
            ConditionExpression: LIVE,
            ExpressionAttributeNames: { '#items': names['#items'], '#ms': names['#ms'], ...(ttl.expires_at ? { '#s': names['#s'] } : {}) },
            ExpressionAttributeValues: { ':empty': [], ':values': values, ':now': Date.now(), ...(ttl.expires_at ? { ':s': ttl.expires_at, ':ms': ttl.expires_at_ms } : {}) },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        const length = (Attributes as Partial<Item> | undefined)?.items?.length ?? 0;
        // maxLength 0 keeps everything, as LTRIM key -0 -1 does
        if (options.maxLength && length > options.maxLength) await this.trim(key, length, options.maxLength);
        return;
      } catch (error) {
        // the list is there but expired: remove it, then append to a fresh one
        if (!isConditionFailed(error) || round >= MAX_ROUNDS) throw error;
        await this.deleteIfExpired(key);
      }
    }
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    const list = (await this.read(key))?.items ?? [];
    // LRANGE: negative indexes count from the end, the range is clamped to the list
    const from = Math.max(start < 0 ? list.length + start : start, 0);
    const through = Math.min(stop < 0 ? list.length + stop : stop, list.length - 1);
    return through < from ? [] : list.slice(from, through + 1);
  }

  async acquireLock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    return (await this.setIfAbsent(key, token, ttlMs)) ? token : undefined;
  }

  /** A lease: extended only while `token` owns it and it has not expired (a lost lock is never recreated). */
  async extendLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const { UpdateCommand } = this.dynamo.sdk.lib;
    const ttl = expiry(ttlMs);
    return this.conditional(() =>
      this.dynamo.documents.send(new UpdateCommand({
        TableName: this.table,
        Key: { key: this.namespace + key },
        UpdateExpression: 'SET #s = :s, #ms = :ms',
        ConditionExpression: `#v = :token AND ${LIVE}`,
        ExpressionAttributeNames: { '#v': names['#v'], '#s': names['#s'], '#ms': names['#ms'] },
        ExpressionAttributeValues: { ':token': token, ':s': ttl.expires_at, ':ms': ttl.expires_at_ms, ':now': Date.now() },
      })),
    );
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    const { DeleteCommand } = this.dynamo.sdk.lib;
    return this.conditional(() =>
      this.dynamo.documents.send(new DeleteCommand({
        TableName: this.table,
        Key: { key: this.namespace + key },
        ConditionExpression: `#v = :token AND ${LIVE}`,
        ExpressionAttributeNames: { '#v': names['#v'], '#ms': names['#ms'] },
        ExpressionAttributeValues: { ':token': token, ':now': Date.now() },
      })),
    );
  }

  /**
   * The keys (namespace taken off) of the live items whose key starts with `prefix`, sorted: a
   * filtered Scan of the whole table, page by page (`pageSize` items read per page). Not part of
   * Store: for rare maintenance (`parley slack reseal`), never on a request's path.
   */
  async keysStartingWith(prefix: string, options: { pageSize?: number } = {}): Promise<string[]> {
    const { ScanCommand } = this.dynamo.sdk.lib;
    const found: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.dynamo.documents.send(new ScanCommand({
        TableName: this.table,
        ProjectionExpression: '#k',
        FilterExpression: `begins_with(#k, :prefix) AND ${LIVE}`,
        ExpressionAttributeNames: { '#k': names['#k'], '#ms': names['#ms'] },
        ExpressionAttributeValues: { ':prefix': this.namespace + prefix, ':now': Date.now() },
        ConsistentRead: true,
        ...(options.pageSize ? { Limit: options.pageSize } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }));
      for (const item of (page.Items ?? []) as Item[]) found.push(item.key.slice(this.namespace.length));
      start = page.LastEvaluatedKey;
    } while (start);
    return found.sort();
  }

  /** Reads one (absent) item: the table exists and the credentials may read it. */
  async ping(): Promise<void> {
    const { GetCommand } = this.dynamo.sdk.lib;
    await this.dynamo.documents.send(new GetCommand({ TableName: this.table, Key: { key: `${this.namespace}parley:ping` } }));
  }

  async close(): Promise<void> {
    this.dynamo.close();
  }

  /** Claims and their release are on the ack path (and locks are as quick): the whole call, retries included, has a deadline. */
  private ackDeadline(operation: string): { abortSignal: AbortSignal } {
    return within(ACK_CALL_MS, `DynamoDB ${operation} on ${this.table}`);
  }

  /** The live item (strongly consistent, so a claim or push just made is seen), or undefined. */
  private async read(key: string): Promise<Item | undefined> {
    const { GetCommand } = this.dynamo.sdk.lib;
    const { Item } = await this.dynamo.documents.send(new GetCommand({ TableName: this.table, Key: { key: this.namespace + key }, ConsistentRead: true }));
    const item = Item as Item | undefined;
    return item?.expires_at_ms !== undefined && item.expires_at_ms <= Date.now() ? undefined : item;
  }

  /** Remove the oldest `length - maxLength` items while the list still has `length` items; re-read and retry when it changed. */
  private async trim(key: string, length: number, maxLength: number): Promise<void> {
    const { UpdateCommand } = this.dynamo.sdk.lib;
    for (let round = 1; length > maxLength; round++) {
      const count = Math.min(length - maxLength, MAX_REMOVED_PER_TRIM);
      const removed = await this.conditional(() =>
        this.dynamo.documents.send(new UpdateCommand({
          TableName: this.table,
          Key: { key: this.namespace + key },
          // highest index first: right whether indexes refer to the list before the update (DynamoDB)
          // or to it after each removal (dynalite)
          UpdateExpression: `REMOVE ${Array.from({ length: count }, (_, i) => `#items[${count - 1 - i}]`).join(', ')}`,
          ConditionExpression: 'size(#items) = :length',
          ExpressionAttributeNames: { '#items': names['#items'] },
          ExpressionAttributeValues: { ':length': length },
        })),
      );
      if (removed) length -= count;
      else if (round >= MAX_ROUNDS) return; // others keep pushing; each of their capped pushes trims too
      else length = (await this.read(key))?.items?.length ?? 0;
    }
  }

  private async deleteIfExpired(key: string): Promise<void> {
    const { DeleteCommand } = this.dynamo.sdk.lib;
    await this.conditional(() =>
      this.dynamo.documents.send(new DeleteCommand({
        TableName: this.table,
        Key: { key: this.namespace + key },
        ConditionExpression: '#ms <= :now',
        ExpressionAttributeNames: { '#ms': names['#ms'] },
        ExpressionAttributeValues: { ':now': Date.now() },
      })),
    );
  }

  /** Make a conditional write: true when it was made, false when its condition did not hold. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}

/** The two expiry attributes for a TTL (none without one; a fraction of a millisecond rounds up). */
function expiry(ttlMs?: number): { expires_at?: number; expires_at_ms?: number } {
  if (ttlMs === undefined || ttlMs <= 0) return {};
  const at = Date.now() + Math.ceil(ttlMs);
  return { expires_at: Math.ceil(at / 1000), expires_at_ms: at };
}
