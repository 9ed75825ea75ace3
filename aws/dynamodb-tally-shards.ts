/**
 * Where DynamoTally keeps a key's counters. A DynamoDB item holds at most 400 KB, and one counter
 * per tenant (a Slack app in thousands of workspaces) outgrows one item: about 12,000 short ids
 * fill it. So a key is several items: `<key>#0` holds the bounded fields (`total`, `model:…`, the
 * traffic counters) and the set of shard numbers in use; each `tenant:…` field lives in one of
 * SHARDS items `<key>#1`…`<key>#<SHARDS>`, chosen by a stable hash of its name. `<key>` itself is
 * the one item of versions before this: never written now, still read and added in.
 */
import type { ItemAccess } from './dynamodb-item.js';

/**
 * Shard items a key's spread fields use: 128 × 400 KB holds about a million Slack-length tenant
 * ids (some 40 bytes each with the total), half that with 64-character ids.
 */
export const SHARDS = 128;
/** Fields of which there is one per tenant: unbounded, so spread. */
const SPREAD = /^tenant:/;
/** BatchGetItem takes at most 100 keys a call. */
const BATCH_KEYS = 100;
/** Calls for the keys DynamoDB left unprocessed (throttled, or past 16 MB an answer) before giving up. */
const BATCH_ROUNDS = 8;

/** The shard a field lives in: 0 for the bounded fields, 1…SHARDS for the spread ones. */
export function shardOf(field: string): number {
  return SPREAD.test(field) ? 1 + (fnv1a(field) % SHARDS) : 0;
}

export const shardKey = (key: string, shard: number): string => `${key}#${shard}`;

/** 32-bit FNV-1a: stable across processes and versions, which the placement must be. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The shard numbers an item's `shards` set names. */
export function shardsIn(item: Record<string, unknown>): number[] {
  const set = item.shards;
  return set instanceof Set ? [...set].map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n <= SHARDS) : [];
}

/**
 * The items at `keys` (full keys), strongly consistent, by key; missing ones are left out. With
 * `attributes`, only those (and the key and expiry) are read.
 */
export async function getItems(access: ItemAccess, keys: string[], attributes?: string[]): Promise<Map<string, Record<string, unknown>>> {
  const { BatchGetCommand } = access.dynamo.sdk.lib;
  const found = new Map<string, Record<string, unknown>>();
  const projection = attributes ? { ProjectionExpression: ['#k', '#ms', ...attributes.map((_, i) => `#a${i}`)].join(', '), ExpressionAttributeNames: { '#k': 'key', '#ms': 'expires_at_ms', ...Object.fromEntries(attributes.map((name, i) => [`#a${i}`, name])) } } : {};
  const unique = [...new Set(keys)];
  const batches = Array.from({ length: Math.ceil(unique.length / BATCH_KEYS) }, (_, i) => unique.slice(i * BATCH_KEYS, (i + 1) * BATCH_KEYS));
  await Promise.all(
    batches.map(async (batch) => {
      let pending: Record<string, unknown>[] = batch.map((key) => ({ key }));
      for (let round = 1; pending.length > 0; round++) {
        if (round > BATCH_ROUNDS) throw new Error(`DynamoTally: DynamoDB left ${pending.length} counter items unread after ${BATCH_ROUNDS} tries`);
        if (round > 1) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** round));
        const answer = await access.dynamo.documents.send(new BatchGetCommand({ RequestItems: { [access.table]: { Keys: pending, ConsistentRead: true, ...projection } } }));
        for (const item of answer.Responses?.[access.table] ?? []) found.set(String(item.key), item);
        pending = answer.UnprocessedKeys?.[access.table]?.Keys ?? [];
      }
    }),
  );
  return found;
}
