/**
 * DynamoStore's list append. One UpdateItem appends (list_append), so concurrent pushes need no
 * read-modify-write; over `maxLength`, the oldest items are removed on the condition that the list
 * still has the length seen: removing the first n of a list of a known length is right whoever
 * appended. Without `ttlMs` the list keeps its expiry, as RPUSH does.
 *
 * Applied once, though the SDK retries: an attempt whose answer does not come within the client's
 * per-attempt timeout is sent again, and DynamoDB may have applied it. Each push writes an id of
 * its own into `pushes` (the ids of the item's recent pushes, oldest first) in the same update, on
 * the condition that the id is not there yet. A retry of an applied push fails that condition,
 * finds its id, and the push is done. Not only the last id is kept: other writers' pushes may land
 * between an attempt and its retry, and the retry must still find its id behind theirs.
 */
import { randomBytes } from 'node:crypto';
import { isConditionFailed } from './dynamodb-sdk.js';
import { isItemTooLarge, makeRoom } from './dynamodb-list-room.js';
import { conditional, deleteIfExpired, expiry, LIVE, names, readLive, type Item, type ItemAccess } from './dynamodb-item.js';

export interface ListPushOptions {
  maxLength?: number;
  ttlMs?: number;
}

/** Each REMOVE names one index; this keeps a trim expression far below DynamoDB's 4 KB limit. */
export const MAX_REMOVED_PER_TRIM = 100;
/** Tries of a conditional list update racing other writers, before the error is the caller's. */
const MAX_ROUNDS = 10;
/**
 * A retried push is recognised while fewer than this many other pushes to its key landed after it
 * (a retry comes seconds later). The ids are cut back to this many once there are twice as many:
 * one extra write per PUSH_IDS_KEPT pushes.
 */
export const PUSH_IDS_KEPT = 32;

/** Append `values` to the list at `key` (the full key, namespace included), once. */
export async function pushOnce(access: ItemAccess, key: string, values: string[], options: ListPushOptions): Promise<void> {
  const { UpdateCommand } = access.dynamo.sdk.lib;
  const ttl = expiry(options.ttlMs);
  // 96 random bits in 16 characters: the ids are part of the item, whose size is what each write costs
  const push = randomBytes(12).toString('base64url');
  for (let round = 1; ; round++) {
    let written: Partial<Item> | undefined;
    try {
      const { Attributes } = await access.dynamo.documents.send(
        new UpdateCommand({
          TableName: access.table,
          Key: { key },
          UpdateExpression: `SET #items = list_append(if_not_exists(#items, :empty), :values), #p = list_append(if_not_exists(#p, :empty), :push)${ttl.expires_at ? ', #s = :s, #ms = :ms' : ''}`,
          ConditionExpression: `${LIVE} AND NOT contains(#p, :id)`,
          ExpressionAttributeNames: { '#items': names['#items'], '#p': names['#p'], '#ms': names['#ms'], ...(ttl.expires_at ? { '#s': names['#s'] } : {}) },
          ExpressionAttributeValues: { ':empty': [], ':values': values, ':push': [push], ':id': push, ':now': Date.now(), ...(ttl.expires_at ? { ':s': ttl.expires_at, ':ms': ttl.expires_at_ms } : {}) },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      written = Attributes as Partial<Item> | undefined;
    } catch (error) {
      if (isItemTooLarge(error) && round < MAX_ROUNDS) {
        // Past DynamoDB's 400 KB: the oldest entries make way (dynamodb-list-room.ts).
        values = await makeRoom(access, key, values);
        if (values.length === 0) return;
        continue;
      }
      if (!isConditionFailed(error)) throw error;
      const item = await readLive(access, key);
      // our id is there: an attempt whose answer was lost was applied, and this was the SDK's retry of it
      if (item?.pushes?.includes(push)) written = item;
      else if (round >= MAX_ROUNDS) throw error;
      else {
        // the list is there but expired: remove it, then append to a fresh one
        await deleteIfExpired(access, key);
        continue;
      }
    }
    const length = written?.items?.length ?? 0;
    // maxLength 0 keeps everything, as LTRIM key -0 -1 does
    if (options.maxLength && length > options.maxLength) await trim(access, key, length, options.maxLength);
    const ids = written?.pushes?.length ?? 0;
    // once: if another push changed the ids meanwhile, a later push cuts them
    if (ids >= 2 * PUSH_IDS_KEPT) await removeOldest(access, key, '#p', ids, ids - PUSH_IDS_KEPT);
    return;
  }
}

/** Remove the oldest `length - maxLength` items while the list still has `length` items; re-read and retry when it changed. */
async function trim(access: ItemAccess, key: string, length: number, maxLength: number): Promise<void> {
  for (let round = 1; length > maxLength; round++) {
    const count = Math.min(length - maxLength, MAX_REMOVED_PER_TRIM);
    if (await removeOldest(access, key, '#items', length, count)) length -= count;
    else if (round >= MAX_ROUNDS) return; // others keep pushing; each of their capped pushes trims too
    else length = (await readLive(access, key))?.items?.length ?? 0;
  }
}

/** Remove the first `count` entries of a list attribute if it still has `length`: true when removed. */
export function removeOldest(access: ItemAccess, key: string, list: '#items' | '#p', length: number, count: number): Promise<boolean> {
  const { UpdateCommand } = access.dynamo.sdk.lib;
  count = Math.min(count, MAX_REMOVED_PER_TRIM);
  return conditional(() =>
    access.dynamo.documents.send(new UpdateCommand({
      TableName: access.table,
      Key: { key },
      // highest index first: right whether indexes refer to the list before the update (DynamoDB)
      // or to it after each removal (dynalite)
      UpdateExpression: `REMOVE ${Array.from({ length: count }, (_, i) => `${list}[${count - 1 - i}]`).join(', ')}`,
      ConditionExpression: `size(${list}) = :length`,
      ExpressionAttributeNames: { [list]: names[list] },
      ExpressionAttributeValues: { ':length': length },
    })),
  );
}
