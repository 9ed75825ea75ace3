/**
 * The Store on DynamoDB: one table (`<DYNAMODB_TABLE_PREFIX>-store`), one item per key.
 *
 *   key            S  the hash key (namespace + key)
 *   value          S  a value, a claim or a lock's owner token
 *   claim          S  the id of the setIfAbsent call that wrote the item, so a write the SDK retries is still won once
 *   withdrawn      SS claims taken back (their answers came too late): those calls' writes may not land; any other may.
 *                     Kept through later claims (an UpdateItem each) and deletes (see remove); an item with it and
 *                     no claim is a marker
 *   items          L  a list (history, a web transcript), oldest first, capped on push
 *   pushes         L  the ids of the list's recent pushes, so a push the SDK retries is applied once (dynamodb-list.ts)
 *   expires_at     N  epoch seconds, the table's TTL attribute (DynamoDB deletes within ~2 days)
 *   expires_at_ms  N  epoch milliseconds, what parley checks: an expired item reads as absent
 *
 * Claims and locks are conditional writes; no transactions (dynalite has none). Expiry is
 * checked on read and in every condition, because TTL deletion is late and emulators never do it.
 * The clocks of the processes sharing a table decide expiry, as Redis's clock does for RedisStore.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from 'pino';
import type { Store } from '../src/index.js';
import { ACK_CALL_MS, within } from './deadlines.js';
import { conditional, expiry, LIVE, names, readLive, type Item, type ItemAccess } from './dynamodb-item.js';
import { pushOnce, type ListPushOptions } from './dynamodb-list.js';
import { dynamoDbAccess, isConditionFailed, type DynamoDbAccess } from './dynamodb-sdk.js';
import { MARKER, TakeBacks, WITHDRAWN_TTL_MS } from './dynamodb-take-back.js';

export interface DynamoStoreOptions {
  /** The table, e.g. `storeTableName(prefix)`; `parley aws setup` creates it. */
  tableName: string;
  /** Put before every key, so several bots (or test runs) can share one table. */
  namespace?: string;
  /** Your own client (you close it); default: one from the environment (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB), with per-attempt deadlines. */
  client?: DynamoDBClient;
  /** Where a claim's take-back that gave up is said (one warn line); default: the logger of the bot given this store, else stderr. */
  logger?: Pick<Logger, 'warn'>;
}

/** A condition a delete is made on (remove), with the names and values it uses. */
interface Guard {
  condition: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/** The store's table name for a DYNAMODB_TABLE_PREFIX. */
export function storeTableName(prefix: string): string {
  return `${prefix}-store`;
}

/** Keys, claims, capped lists and leases on DynamoDB, for processes and functions sharing state. */
export class DynamoStore implements Store {
  private readonly dynamo: DynamoDbAccess;
  private readonly table: string;
  private readonly namespace: string;
  private readonly access: ItemAccess;
  private readonly takeBacks: TakeBacks;

  /** Loads the AWS SDK; throws MissingDependencyError naming the install command when it is missing. */
  constructor(options: DynamoStoreOptions) {
    this.dynamo = dynamoDbAccess('DynamoStore', options.client);
    this.table = options.tableName;
    this.namespace = options.namespace ?? '';
    this.access = { dynamo: this.dynamo, table: this.table };
    this.takeBacks = new TakeBacks(this.access, options.logger);
  }

  useLogger(logger: Pick<Logger, 'warn'>): void {
    this.takeBacks.useLogger(logger);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.read(key))?.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const { PutCommand } = this.dynamo.sdk.lib;
    await this.dynamo.documents.send(new PutCommand({ TableName: this.table, Item: { key: this.namespace + key, value, ...expiry(ttlMs) } }));
  }

  /**
   * A claim. The SDK sends a write again when its answer is lost (a 500, a reset, a timeout) though
   * DynamoDB may have applied it; that retry then fails its condition against our own item. So each
   * call writes an id of its own (`claim`, the same on the SDK's retries of the one command) and, when
   * the condition fails, reads the item: the claim is ours if the live item carries our id. Values
   * are no proof (two callers may claim with the same '1').
   *
   * An UpdateItem, not a PutItem: a Put replaces the whole item, `withdrawn` with it, and a withdrawn
   * claim still on its way could then land after all. Updated, the ids taken back stay on the item
   * through every later claim; what else the item holds is set or removed, as a Put would have.
   */
  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const { UpdateCommand } = this.dynamo.sdk.lib;
    await this.takeBacks.before(this.namespace + key);
    const claim = randomBytes(12).toString('base64url');
    const deadline = this.ackDeadline('UpdateItem');
    // Unknown outcome (an answer too late, or none): DynamoDB may have applied the claim. Left there,
    // it would turn the platform's retry of this very message away as a duplicate; taken back (only
    // if it is ours, and for good: see dynamodb-take-back.ts), the retry is taken. Within the ack
    // deadline, or else in the background (settled()): the caller gets the error at once either way.
    const unknownOutcome = async (error: unknown): Promise<never> => {
      await this.takeBacks.takeBack(this.namespace + key, claim);
      throw error;
    };
    const ttl = expiry(ttlMs);
    try {
      await this.dynamo.documents.send(new UpdateCommand({
        TableName: this.table,
        Key: { key: this.namespace + key },
        UpdateExpression: ttl.expires_at === undefined
          ? 'SET #v = :value, #c = :claim REMOVE #items, #p, #s, #ms'
          : 'SET #v = :value, #c = :claim, #s = :s, #ms = :ms REMOVE #items, #p',
        // never a withdrawn call; and the key absent, present but expired (not yet deleted by TTL), or a withdrawn marker
        ConditionExpression: `(attribute_not_exists(#w) OR NOT contains(#w, :claim)) AND (attribute_not_exists(#k) OR #ms <= :now OR ${MARKER})`,
        ExpressionAttributeNames: { '#k': names['#k'], '#v': names['#v'], '#items': names['#items'], '#p': names['#p'], '#s': names['#s'], '#ms': names['#ms'], '#w': 'withdrawn', '#c': 'claim' },
        ExpressionAttributeValues: {
          ':value': value,
          ':claim': claim,
          ':now': Date.now(),
          // DynamoDB deletes the item (and the ids taken back) no sooner than a marker would have been
          ...(ttl.expires_at === undefined ? {} : { ':s': Math.max(ttl.expires_at, expiry(WITHDRAWN_TTL_MS).expires_at as number), ':ms': ttl.expires_at_ms }),
        },
      }), deadline);
      return true;
    } catch (error) {
      if (!isConditionFailed(error)) return unknownOutcome(error);
      // a first attempt's "no" is final; after a retry, an earlier attempt may have written the item
      if ((error as { $metadata?: { attempts?: number } }).$metadata?.attempts === 1) return false;
      // the read shares the claim's deadline: both are on the ack path
      const item = await readLive(this.access, this.namespace + key, deadline).catch(unknownOutcome);
      return item?.claim === claim;
    }
  }

  /** A claim's release is on the ack path (0.8 s in all); `ackDeadline: false` leaves the SDK its retries (a throttled attempt waited out). */
  async delete(key: string, options: { ackDeadline?: boolean } = {}): Promise<void> {
    await this.remove(key, options.ackDeadline === false ? {} : this.ackDeadline('DeleteItem'));
  }

  /**
   * Deleted only while it holds `value` (a claim's value, unique to its try): a release retried
   * after another delivery claimed the key afresh (the SDK's retry of one that landed, a give-back
   * owed) leaves that claim alone. One carrying ids taken back leaves a marker (see remove).
   */
  async deleteIf(key: string, value: string, options: { ackDeadline?: boolean } = {}): Promise<boolean> {
    return this.remove(key, options.ackDeadline === false ? {} : this.ackDeadline('DeleteItem'), { condition: '#v = :value', names: { '#v': names['#v'] }, values: { ':value': value } });
  }

  /**
   * Delete the item at `key` (if `guard` holds). One carrying `withdrawn` becomes a marker instead:
   * deleted, it would take the ids with it, and a claim taken back but still on its way would find
   * the key absent and land. One call for an item without them, as a plain DeleteItem; a second
   * only when that one's condition fails. True when the item was deleted or marked.
   */
  private async remove(key: string, deadline: { abortSignal?: AbortSignal }, guard?: Guard): Promise<boolean> {
    const { DeleteCommand, UpdateCommand } = this.dynamo.sdk.lib;
    const common = { TableName: this.table, Key: { key: this.namespace + key } };
    const when = (condition: string) => (guard ? `${guard.condition} AND ${condition}` : condition);
    const deleted = await conditional(() =>
      this.dynamo.documents.send(new DeleteCommand({
        ...common,
        ConditionExpression: when('attribute_not_exists(#w)'),
        ExpressionAttributeNames: { ...guard?.names, '#w': 'withdrawn' },
        ...(guard ? { ExpressionAttributeValues: guard.values } : {}),
      }), deadline),
    );
    if (deleted) return true;
    // the marker withdrawClaim leaves; an item gone meanwhile (TTL) is not made again, as an item without ids
    const ttl = expiry(WITHDRAWN_TTL_MS);
    return conditional(() =>
      this.dynamo.documents.send(new UpdateCommand({
        ...common,
        UpdateExpression: 'SET #s = :s, #ms = :ms REMOVE #v, #c, #items, #p',
        ConditionExpression: when('attribute_exists(#w)'),
        ExpressionAttributeNames: { ...guard?.names, '#w': 'withdrawn', '#c': 'claim', '#v': names['#v'], '#items': names['#items'], '#p': names['#p'], '#s': names['#s'], '#ms': names['#ms'] },
        ExpressionAttributeValues: { ...guard?.values, ':s': ttl.expires_at, ':ms': ttl.expires_at_ms },
      }), deadline),
    );
  }

  /** An atomic append, capped at `maxLength`, applied once though the SDK retries it (see dynamodb-list.ts). */
  async listPush(key: string, values: string[], options: ListPushOptions = {}): Promise<void> {
    if (values.length === 0) return;
    await pushOnce(this.access, this.namespace + key, values, options);
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
    return conditional(() =>
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

  /** Deleted only while `token` owns the lock; one carrying ids taken back leaves a marker (see remove). */
  async releaseLock(key: string, token: string): Promise<boolean> {
    return this.remove(key, {}, {
      condition: `#v = :token AND ${LIVE}`,
      names: { '#v': names['#v'], '#ms': names['#ms'] },
      values: { ':token': token, ':now': Date.now() },
    });
  }

  /** Reads one (absent) item: the table exists and the credentials may read it. */
  async ping(): Promise<void> {
    const { GetCommand } = this.dynamo.sdk.lib;
    await this.dynamo.documents.send(new GetCommand({ TableName: this.table, Key: { key: `${this.namespace}parley:ping` } }));
  }

  /** Resolves once no claim is being taken back in the background (a Lambda awaits it through bot.afterAnswers()). */
  settled(): Promise<void> {
    return this.takeBacks.settled();
  }

  /** A take-back still going on in the background gives up (one warn line). */
  async close(): Promise<void> {
    this.takeBacks.close();
    this.dynamo.close();
  }

  /** Claims and their release are on the ack path (and locks are as quick): the whole call, retries included, has a deadline. */
  private ackDeadline(operation: string): { abortSignal: AbortSignal } {
    return within(ACK_CALL_MS, `DynamoDB ${operation} on ${this.table}`);
  }

  /** The live item at `key`, or undefined (dynamodb-item.ts). */
  private read(key: string): Promise<Item | undefined> {
    return readLive(this.access, this.namespace + key);
  }
}
