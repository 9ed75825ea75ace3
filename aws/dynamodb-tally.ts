/**
 * Shared counters (AI spend per UTC day and month, traffic per minute) on the store's DynamoDB
 * table, so budgets, the console and the alerts see every process and every Lambda container, as
 * RedisTally does on Redis. Each counter is a number attribute `n:<field>`, added to atomically
 * with UpdateItem's ADD, counted once though the SDK retries (dynamodb-tally-item.ts), the expiry
 * pushed out on every add. A key is a main item and shard items, so one counter per tenant fits
 * however many tenants there are (dynamodb-tally-shards.ts). An add is one update per item it
 * touches, not a transaction: when one fails the add throws, and the others' counts stand (as the
 * day's and the month's adds of one answer always were apart).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Tally } from '../src/index.js';
import type { ItemAccess } from './dynamodb-item.js';
import { dynamoDbAccess, type DynamoDbAccess } from './dynamodb-sdk.js';
import { addToItem, countersOf, expired, FIELD, getItem } from './dynamodb-tally-item.js';
import { getItems, shardKey, shardOf, shardsIn } from './dynamodb-tally-shards.js';

export interface DynamoTallyOptions {
  /** The store's table (`storeTableName(prefix)`): counters live beside the store's keys. */
  tableName: string;
  /** Put before every key, as DynamoStore's namespace. */
  namespace?: string;
  /** Your own client (you close it); default: one from the environment. */
  client?: DynamoDBClient;
}

/** Keys whose old single item this process has read (a day's, a month's, the last minutes'). */
const OLD_ITEMS_KEPT = 16;
/** read(key, fields) reads only those attributes up to this many fields, whole items past it. */
const PROJECTED_FIELDS = 100;

export class DynamoTally implements Tally {
  private readonly dynamo: DynamoDbAccess;
  private readonly access: ItemAccess;
  private readonly namespace: string;
  /** The counters of each key's old single item, read once a key: nothing writes it after an upgrade. */
  private readonly oldItems = new Map<string, Promise<{ counters: Record<string, number>; expiresAtMs: number }>>();

  /** Loads the AWS SDK; throws MissingDependencyError naming the install command when it is missing. */
  constructor(options: DynamoTallyOptions) {
    this.dynamo = dynamoDbAccess('DynamoTally', options.client);
    this.access = { dynamo: this.dynamo, table: options.tableName };
    this.namespace = options.namespace ?? '';
  }

  /**
   * One update per item touched: the main item always (its expiry is the key's, and it lists the
   * shards in use), and each shard one of the fields lives in. A spend add touches two.
   */
  async add(key: string, amounts: Record<string, number>, ttlMs: number): Promise<Record<string, number>> {
    const fields = Object.entries(amounts);
    if (fields.length === 0) return {};
    const full = this.namespace + key;
    const byShard = new Map<number, [string, number][]>([[0, []]]);
    for (const field of fields) {
      const shard = shardOf(field[0]);
      byShard.set(shard, [...(byShard.get(shard) ?? []), field]);
    }
    const spread = [...byShard.keys()].filter((shard) => shard > 0);
    const [old, ...items] = await Promise.all([
      this.oldCounters(key),
      ...[...byShard].map(([shard, counted]) => addToItem(this.access, shardKey(full, shard), counted, ttlMs, shard === 0 ? spread : [])),
    ]);
    const totals: Record<string, number> = {};
    for (const item of items) for (const [name, value] of Object.entries(item)) if (name.startsWith(FIELD)) totals[name.slice(FIELD.length)] = Number(value);
    return Object.fromEntries(fields.map(([field, amount]) => [field, (totals[field] ?? amount) + (old[field] ?? 0)]));
  }

  /**
   * With `fields`, only the items they live in (and the old item), in one BatchGetItem; without,
   * the main and old items, then every shard the main item lists.
   */
  async read(key: string, fields?: string[]): Promise<Record<string, number>> {
    const full = this.namespace + key;
    const sum = (items: Iterable<Record<string, unknown>>, wanted?: Set<string>) => {
      const totals: Record<string, number> = {};
      for (const item of items) for (const [field, value] of countersOf(item)) if (!wanted || wanted.has(field)) totals[field] = (totals[field] ?? 0) + value;
      return totals;
    };
    if (fields) {
      if (fields.length === 0) return {};
      const keys = [full, ...new Set(fields.map((field) => shardKey(full, shardOf(field))))];
      const items = await getItems(this.access, keys, fields.length <= PROJECTED_FIELDS ? fields.map((field) => FIELD + field) : undefined);
      return sum(items.values(), new Set(fields));
    }
    const first = await getItems(this.access, [full, shardKey(full, 0)]);
    const main = first.get(shardKey(full, 0));
    // The shards of an expired main item are older still: they read as absent with it.
    const shards = main && !expired(main) ? shardsIn(main).map((shard) => shardKey(full, shard)) : [];
    const rest = shards.length > 0 ? await getItems(this.access, shards) : new Map();
    return sum([...first.values(), ...rest.values()]);
  }

  /** The live counters of the key's old single item, read once per key (a few keys kept). */
  private async oldCounters(key: string): Promise<Record<string, number>> {
    let read = this.oldItems.get(key);
    if (!read) {
      read = getItem(this.access, this.namespace + key).then((item) => ({ counters: Object.fromEntries(countersOf(item)), expiresAtMs: Number(item.expires_at_ms ?? Infinity) }));
      this.oldItems.set(key, read);
      if (this.oldItems.size > OLD_ITEMS_KEPT) this.oldItems.delete(this.oldItems.keys().next().value!);
    }
    try {
      const old = await read;
      return old.expiresAtMs > Date.now() ? old.counters : {};
    } catch {
      // The add itself was counted: its totals leave the old item out this once, and the next add reads it again.
      if (this.oldItems.get(key) === read) this.oldItems.delete(key);
      return {};
    }
  }

  async close(): Promise<void> {
    this.dynamo.close();
  }
}
