/**
 * One item of the store's table (its layout is in dynamodb-store.ts): what DynamoStore, its list
 * writes (dynamodb-list.ts) and DynamoTally's items share — attribute names, the liveness
 * condition, expiry, reads, the removal of an expired item.
 */
import { isConditionFailed, type DynamoDbAccess } from './dynamodb-sdk.js';

export interface Item {
  key: string;
  value?: string;
  claim?: string;
  items?: string[];
  pushes?: string[];
  withdrawn?: Set<string>;
  expires_at?: number;
  expires_at_ms?: number;
}

/** The table and the connection to it. */
export interface ItemAccess {
  dynamo: DynamoDbAccess;
  table: string;
}

/** Attribute names in expressions (`key`, `value` and `items` are DynamoDB reserved words). */
export const names = { '#k': 'key', '#v': 'value', '#items': 'items', '#p': 'pushes', '#s': 'expires_at', '#ms': 'expires_at_ms' };
export const LIVE = '(attribute_not_exists(#ms) OR #ms > :now)';
/** Not a marker (dynamodb-store.ts: only the ids of claims taken back), which reads as an absent key. */
export const NOT_MARKER = '(attribute_not_exists(#w) OR attribute_exists(#c) OR attribute_exists(#v) OR attribute_exists(#items))';
export const markerNames = { '#w': 'withdrawn', '#c': 'claim', '#v': names['#v'], '#items': names['#items'] };

/** The live item (strongly consistent, so a claim or push just made is seen), or undefined (a marker too). */
export async function readLive({ dynamo, table }: ItemAccess, key: string, options?: { abortSignal?: AbortSignal }): Promise<Item | undefined> {
  const { GetCommand } = dynamo.sdk.lib;
  const { Item } = await dynamo.documents.send(new GetCommand({ TableName: table, Key: { key }, ConsistentRead: true }), options);
  const item = Item as Item | undefined;
  if (item?.expires_at_ms !== undefined && item.expires_at_ms <= Date.now()) return undefined;
  const marker = item?.withdrawn !== undefined && item.claim === undefined && item.value === undefined && item.items === undefined;
  return marker ? undefined : item;
}

/** Make a conditional write: true when it was made, false when its condition did not hold. */
export async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

/** The two expiry attributes for a TTL (none without one; a fraction of a millisecond rounds up). */
export function expiry(ttlMs?: number): { expires_at?: number; expires_at_ms?: number } {
  if (ttlMs === undefined || ttlMs <= 0) return {};
  const at = Date.now() + Math.ceil(ttlMs);
  return { expires_at: Math.ceil(at / 1000), expires_at_ms: at };
}

/** Remove the item while it is still expired (another process may have started it afresh). */
export async function deleteIfExpired(access: ItemAccess, key: string): Promise<void> {
  const { DeleteCommand } = access.dynamo.sdk.lib;
  await conditional(() =>
    access.dynamo.documents.send(new DeleteCommand({
      TableName: access.table,
      Key: { key },
      ConditionExpression: '#ms <= :now',
      ExpressionAttributeNames: { '#ms': names['#ms'] },
      ExpressionAttributeValues: { ':now': Date.now() },
    })),
  );
}
