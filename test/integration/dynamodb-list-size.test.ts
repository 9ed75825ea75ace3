/**
 * DynamoStore.listPush past DynamoDB's 400 KB item limit, on the moto server. A list capped only by
 * its length (a conversation's last 20 turns, each a pasted document or a long answer) outgrew the
 * item, and every later push to it failed with a ValidationException: on a worker each message of
 * that conversation was answered, then retried and dead-lettered for its history. Now the oldest
 * entries make way, as they do past maxLength.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStoreTable, DynamoStore, storeTableName } from '../../aws/index.js';
import { useMoto } from '../helpers/moto.js';

const moto = useMoto();
const tableName = storeTableName('parley-list-size');
let store: DynamoStore;

beforeAll(async () => {
  const client = new DynamoDBClient({ endpoint: moto().url });
  await createStoreTable(client, tableName);
  client.destroy();
  store = new DynamoStore({ tableName, namespace: 'size:' });
});
afterAll(async () => {
  await store.close();
});

const entry = (n: number, bytes: number) => `${String(n).padStart(4, '0')}:${'x'.repeat(bytes - 5)}`;

describe('DynamoStore.listPush past 400 KB', () => {
  it('keeps pushing: the oldest entries make way, the newest stay in order', async () => {
    for (let n = 1; n <= 20; n++) await store.listPush('turns', [entry(n, 30_000)], { maxLength: 50, ttlMs: 60_000 });
    const list = await store.listRange('turns', 0, -1);
    expect(list.length).toBeGreaterThanOrEqual(5);
    expect(list.length).toBeLessThan(20);
    expect(list.map((item) => Number(item.slice(0, 4)))).toEqual(Array.from({ length: list.length }, (_, i) => 21 - list.length + i));
  });

  it('an entry too large alone is not kept, nor anything older; the newer ones of its push are', async () => {
    await store.listPush('paste', ['earlier turn'], { maxLength: 20, ttlMs: 60_000 });
    await store.listPush('paste', ['p'.repeat(450_000), 'the answer'], { maxLength: 20, ttlMs: 60_000 });
    expect(await store.listRange('paste', 0, -1)).toEqual(['the answer']);
    await store.listPush('paste', ['next turn'], { maxLength: 20, ttlMs: 60_000 });
    expect(await store.listRange('paste', 0, -1)).toEqual(['the answer', 'next turn']);
  });
});
