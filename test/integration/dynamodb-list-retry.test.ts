/**
 * DynamoStore.listPush under the AWS SDK's own retry, on a real DynamoDB emulator (the moto
 * server): an append DynamoDB applied whose answer came after the client's per-attempt timeout is
 * sent again by the SDK, and must not be appended twice (a transcript line, a history turn or an
 * alert shown twice). The answer is lost at the HTTP boundary, by a proxy in front of moto.
 * RedisStore has no such retry (ioredis does not resend a command it wrote), so this is DynamoDB's.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStoreTable, DynamoStore, storeTableName } from '../../aws/index.js';
import { requestHandler } from '../../aws/deadlines.js';
import { useMoto } from '../helpers/moto.js';
import { startLostAnswerProxy, type LostAnswerOptions } from '../helpers/lost-answer.js';

const moto = useMoto();
const tableName = storeTableName('parley-retry');
const ATTEMPT_MS = 1000; // roomy: on a loaded machine moto may take a few hundred ms to answer at all
let counter = 0;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  const client = new DynamoDBClient({});
  await createStoreTable(client, tableName);
  client.destroy();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Is this the append (an UpdateItem with list_append) to `key`? */
function appendTo(key: string): LostAnswerOptions['picks'] {
  return (body, headers) =>
    headers['x-amz-target'] === 'DynamoDB_20120810.UpdateItem' && body.includes('list_append') && (JSON.parse(body) as { Key: { key: { S: string } } }).Key.key.S === key;
}

/**
 * A store whose calls go through a proxy that loses the answer of the first append to `key`, with
 * a 1 s per-attempt timeout (3 s deployed); a peer store talking to moto directly.
 */
async function storesLosingAppend(key: string, afterApplied?: (peer: DynamoStore) => Promise<void>) {
  const namespace = `r${++counter}:`;
  const peer = new DynamoStore({ tableName, namespace });
  const proxy = await startLostAnswerProxy(moto().url, { picks: appendTo(namespace + key), holdMs: 4 * ATTEMPT_MS, afterApplied: afterApplied && (() => afterApplied(peer)) });
  const client = new DynamoDBClient({ endpoint: proxy.url, requestHandler: requestHandler(ATTEMPT_MS) });
  const store = new DynamoStore({ tableName, namespace, client });
  cleanups.push(() => client.destroy(), () => peer.close(), () => proxy.close());
  return { store, peer, proxy };
}

describe('DynamoStore.listPush when the SDK retries an append that was applied', () => {
  it('appends once: the retry of an applied append is recognised', async () => {
    const { store, proxy } = await storesLosingAppend('transcript');
    await store.listPush('transcript', ['user: hello'], { ttlMs: 60_000 });
    expect(proxy.picked.length).toBeGreaterThanOrEqual(2); // the append was sent again
    expect(await store.listRange('transcript', 0, -1)).toEqual(['user: hello']);
  });

  it('appends once when other writers pushed between the applied attempt and its retry', async () => {
    const { store, proxy } = await storesLosingAppend('history', async (peer) => {
      for (let i = 1; i <= 3; i++) await peer.listPush('history', [`other ${i}`], { maxLength: 20 });
    });
    await store.listPush('history', ['mine'], { maxLength: 20 });
    expect(proxy.picked.length).toBeGreaterThanOrEqual(2);
    expect(await store.listRange('history', 0, -1)).toEqual(['mine', 'other 1', 'other 2', 'other 3']);
  });

  it('still trims a capped list to its cap when the applied append was retried', async () => {
    const { store, peer, proxy } = await storesLosingAppend('alerts');
    await peer.listPush('alerts', ['a', 'b', 'c'], { maxLength: 3 });
    await store.listPush('alerts', ['d'], { maxLength: 3 });
    expect(proxy.picked.length).toBeGreaterThanOrEqual(2);
    expect(await store.listRange('alerts', 0, -1)).toEqual(['b', 'c', 'd']);
  });

  it('keeps the ids of recent pushes only: the item stays small however many pushes it had', async () => {
    const namespace = `r${++counter}:`;
    const store = new DynamoStore({ tableName, namespace });
    const admin = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    cleanups.push(() => store.close(), () => admin.destroy());
    for (let i = 0; i < 100; i++) await store.listPush('long', [`${i}`], { maxLength: 5 });
    const { Item } = await admin.send(new GetCommand({ TableName: tableName, Key: { key: `${namespace}long` }, ConsistentRead: true }));
    expect(Item?.items).toEqual(['95', '96', '97', '98', '99']);
    expect((Item?.pushes as string[]).length).toBeGreaterThanOrEqual(32);
    expect((Item?.pushes as string[]).length).toBeLessThan(64);
    expect(new Set(Item?.pushes as string[]).size).toBe((Item?.pushes as string[]).length);
  });
});
