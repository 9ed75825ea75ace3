/**
 * One DynamoTally item: an add to some of its counters, counted once though the SDK retries, and
 * how its counters read. An ADD whose answer is lost (a 500, a timeout) is sent again though
 * DynamoDB may have applied it, which would count the spend twice. So each add writes an id of its
 * own into `pushes` in the same update, on the condition that it is not there yet, as a list push
 * does (dynamodb-list.ts): a retry of an applied add finds its id.
 */
import { randomBytes } from 'node:crypto';
import { PUSH_IDS_KEPT, removeOldest } from './dynamodb-list.js';
import { deleteIfExpired, type ItemAccess } from './dynamodb-item.js';
import { isConditionFailed } from './dynamodb-sdk.js';

/** Each counter is a number attribute `n:<field>`. */
export const FIELD = 'n:';

/**
 * Add `fields` to the item at `itemKey` (the full key) and push its expiry out; with `shards`, add
 * those numbers to its number set `shards` too. Resolves to the item's attributes after the add.
 */
export async function addToItem(access: ItemAccess, itemKey: string, fields: [string, number][], ttlMs: number, shards: number[] = []): Promise<Record<string, unknown>> {
  const { UpdateCommand } = access.dynamo.sdk.lib;
  const expiresAtMs = Date.now() + ttlMs;
  const call = randomBytes(12).toString('base64url');
  const names: Record<string, string> = { '#s': 'expires_at', '#ms': 'expires_at_ms', '#p': 'pushes' };
  const values: Record<string, unknown> = { ':s': Math.ceil(expiresAtMs / 1000), ':ms': expiresAtMs, ':empty': [], ':call': [call], ':id': call };
  const adds = fields.map(([field, amount], i) => {
    names[`#f${i}`] = FIELD + field;
    values[`:v${i}`] = amount;
    return `#f${i} :v${i}`;
  });
  if (shards.length > 0) {
    names['#sh'] = 'shards';
    values[':sh'] = new Set(shards);
    adds.push('#sh :sh');
  }
  const update = () =>
    access.dynamo.documents.send(
      new UpdateCommand({
        TableName: access.table,
        Key: { key: itemKey },
        UpdateExpression: `${adds.length > 0 ? `ADD ${adds.join(', ')} ` : ''}SET #s = :s, #ms = :ms, #p = list_append(if_not_exists(#p, :empty), :call)`,
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
      const item = await getItem(access, itemKey);
      // our id is there: an attempt whose answer was lost was applied, and this was the SDK's retry of it
      if (Array.isArray(item.pushes) && item.pushes.includes(call)) totals = item;
      else if (round >= 2) throw error;
      else await deleteIfExpired(access, itemKey);
    }
  }
  const ids = Array.isArray(totals.pushes) ? totals.pushes.length : 0;
  // once: if another add changed the ids meanwhile, a later add cuts them
  if (ids >= 2 * PUSH_IDS_KEPT) await removeOldest(access, itemKey, '#p', ids, ids - PUSH_IDS_KEPT);
  return totals;
}

/** The item at `itemKey` as stored (strongly consistent), or an empty one. */
export async function getItem(access: ItemAccess, itemKey: string): Promise<Record<string, unknown>> {
  const { GetCommand } = access.dynamo.sdk.lib;
  const { Item } = await access.dynamo.documents.send(new GetCommand({ TableName: access.table, Key: { key: itemKey }, ConsistentRead: true }));
  return (Item ?? {}) as Record<string, unknown>;
}

/** Whether the item is past its expiry: it reads as absent, as in DynamoStore (TTL deletion is late). */
export function expired(item: Record<string, unknown>, now = Date.now()): boolean {
  return typeof item.expires_at_ms === 'number' && item.expires_at_ms <= now;
}

/** The item's counters (none when it expired). */
export function countersOf(item: Record<string, unknown>): [string, number][] {
  if (expired(item)) return [];
  return Object.entries(item)
    .filter(([name]) => name.startsWith(FIELD))
    .map(([name, value]): [string, number] => [name.slice(FIELD.length), Number(value)]);
}
