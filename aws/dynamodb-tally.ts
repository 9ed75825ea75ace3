/**
 * Shared counters (AI spend per UTC day and month, traffic per minute) on the store's DynamoDB
 * table, so budgets, the console and the alerts see every process and every Lambda container, as
 * RedisTally does on Redis. One item per key; each counter is a number attribute `n:<field>`,
 * added to atomically with UpdateItem's ADD, the expiry pushed out on every add.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Tally } from '../src/index.js';
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
    const names: Record<string, string> = { '#s': 'expires_at', '#ms': 'expires_at_ms' };
    const values: Record<string, number> = { ':s': Math.ceil(expiresAtMs / 1000), ':ms': expiresAtMs };
    fields.forEach(([field, amount], i) => {
      names[`#f${i}`] = FIELD + field;
      values[`:v${i}`] = amount;
    });
    const update = () =>
      this.dynamo.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { key: this.namespace + key },
          UpdateExpression: `ADD ${fields.map((_, i) => `#f${i} :v${i}`).join(', ')} SET #s = :s, #ms = :ms`,
          // Counting on an expired item (TTL deletes late) would carry its old totals on.
          ConditionExpression: 'attribute_not_exists(#ms) OR #ms > :now',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':now': Date.now() },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    let result;
    try {
      result = await update();
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      await this.deleteIfExpired(key);
      result = await update();
    }
    const totals = (result.Attributes ?? {}) as Record<string, unknown>;
    return Object.fromEntries(fields.map(([field, amount]) => [field, Number(totals[FIELD + field] ?? amount)]));
  }

  async read(key: string, fields?: string[]): Promise<Record<string, number>> {
    const { GetCommand } = this.dynamo.sdk.lib;
    const { Item } = await this.dynamo.documents.send(new GetCommand({ TableName: this.table, Key: { key: this.namespace + key }, ConsistentRead: true }));
    const item = (Item ?? {}) as Record<string, unknown>;
    // An item past its expiry reads as absent, as in DynamoStore (TTL deletion is late).
    if (typeof item.expires_at_ms === 'number' && item.expires_at_ms <= Date.now()) return {};
    const counters = Object.entries(item).filter(([name]) => name.startsWith(FIELD)).map(([name, value]): [string, number] => [name.slice(FIELD.length), Number(value)]);
    const wanted = fields ? new Set(fields) : undefined;
    return Object.fromEntries(wanted ? counters.filter(([field]) => wanted.has(field)) : counters);
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
