/**
 * Shared counters (AI spend per UTC day and month, traffic per minute) on the store's DynamoDB
 * table, so budgets, the console and the alerts see every process and every Lambda container, as
 * RedisTally does on Redis. One item per key; each counter is a number attribute `n:<field>`,
 * added to atomically with UpdateItem's ADD, the expiry pushed out on every add.
 *
 * Counted once, though the SDK retries: an ADD whose answer is lost (a 500, a timeout) is sent
 * again though DynamoDB may have applied it, which would count the spend twice. So each add
 * writes an id of its own into `pushes` in the same update, on the condition that it is not
 * there yet, as a list push does (dynamodb-list.ts): a retry of an applied add finds its id.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Tally } from '../src/index.js';
import { PUSH_IDS_KEPT, removeOldest } from './dynamodb-list.js';
import { dynamoDbAccess, isConditionFailed, type DynamoDbAccess } from './dynamodb-sdk.js';

export interface DynamoTallyOptions {
  /** The store's table (`storeTableName(prefix)`): counters live beside the store's keys. */
  tableName: string;
  /** Put before every key, as DynamoStore's namespace. */
  namespace?: string;
  /** Your own client (you close it); default: one from the environment. */
  client?: DynamoDBClient;
}

const FIELD = 'n:';

export class DynamoTally implements Tally {
  private readonly dynamo: DynamoDbAccess;
  private readonly table: string;
  private readonly namespace: string;

  /** Loads the AWS SDK; throws MissingDependencyError naming the install command when it is missing. */
  constructor(options: DynamoTallyOptions) {
    this.dynamo = dynamoDbAccess('DynamoTally', options.client);
    this.table = options.tableName;
    this.namespace = options.namespace ?? '';
  }

  async add(key: string, amounts: Record<string, number>, ttlMs: number): Promise<Record<string, number>> {
    const fields = Object.entries(amounts);
    if (fields.length === 0) return {};
    const { UpdateCommand } = this.dynamo.sdk.lib;
    const expiresAtMs = Date.now() + ttlMs;
    const call = randomBytes(12).toString('base64url');
    const names: Record<string, string> = { '#s': 'expires_at', '#ms': 'expires_at_ms', '#p': 'pushes' };
    const values: Record<string, unknown> = { ':s': Math.ceil(expiresAtMs / 1000), ':ms': expiresAtMs, ':empty': [], ':call': [call], ':id': call };
    fields.forEach(([field, amount], i) => {
      names[`#f${i}`] = FIELD + field;
      values[`:v${i}`] = amount;
    });
    const update = () =>
      this.dynamo.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { key: this.namespace + key },
          UpdateExpression: `ADD ${fields.map((_, i) => `#f${i} :v${i}`).join(', ')} SET #s = :s, #ms = :ms, #p = list_append(if_not_exists(#p, :empty), :call)`,
          // Counting on an expired item (TTL deletes late) would carry its old totals on; a retry of an applied add would count twice.
          ConditionExpression: '(attribute_not_exists(#ms) OR #ms > :now) AND NOT contains(#p, :id)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':now': Date.now() },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    let totals: Record<string, unknown> | undefined;
    for (let round = 1; !totals; round++) {
      try {
        totals = ((await update()).Attributes ?? {}) as Record<string, unknown>;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        const item = await this.item(key);
        // our id is there: an attempt whose answer was lost was applied, and this was the SDK's retry of it
        if (Array.isArray(item.pushes) && item.pushes.includes(call)) totals = item;
        else if (round >= 2) throw error;
        else await this.deleteIfExpired(key);
      }
    }
    const ids = Array.isArray(totals.pushes) ? totals.pushes.length : 0;
    // once: if another add changed the ids meanwhile, a later add cuts them
    if (ids >= 2 * PUSH_IDS_KEPT) await removeOldest({ dynamo: this.dynamo, table: this.table }, this.namespace + key, '#p', ids, ids - PUSH_IDS_KEPT);
    return Object.fromEntries(fields.map(([field, amount]) => [field, Number(totals[FIELD + field] ?? amount)]));
  }

  async read(key: string, fields?: string[]): Promise<Record<string, number>> {
    const item = await this.item(key);
    // An item past its expiry reads as absent, as in DynamoStore (TTL deletion is late).
    if (typeof item.expires_at_ms === 'number' && item.expires_at_ms <= Date.now()) return {};
    const counters = Object.entries(item).filter(([name]) => name.startsWith(FIELD)).map(([name, value]): [string, number] => [name.slice(FIELD.length), Number(value)]);
    const wanted = fields ? new Set(fields) : undefined;
    return Object.fromEntries(wanted ? counters.filter(([field]) => wanted.has(field)) : counters);
  }

  /** The item at `key` as stored (strongly consistent), or an empty one. */
  private async item(key: string): Promise<Record<string, unknown>> {
    const { GetCommand } = this.dynamo.sdk.lib;
    const { Item } = await this.dynamo.documents.send(new GetCommand({ TableName: this.table, Key: { key: this.namespace + key }, ConsistentRead: true }));
    return (Item ?? {}) as Record<string, unknown>;
  }

  /** Remove the item while it is still expired (another process may have started it afresh). */
  private async deleteIfExpired(key: string): Promise<void> {
    const { DeleteCommand } = this.dynamo.sdk.lib;
    await this.dynamo.documents
      .send(new DeleteCommand({ TableName: this.table, Key: { key: this.namespace + key }, ConditionExpression: '#ms <= :now', ExpressionAttributeNames: { '#ms': 'expires_at_ms' }, ExpressionAttributeValues: { ':now': Date.now() } }))
      .catch((error: unknown) => {
        if (!isConditionFailed(error)) throw error;
      });
  }

  async close(): Promise<void> {
    this.dynamo.close();
  }
}
