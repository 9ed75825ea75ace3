/**
 * DynamoStore on a real DynamoDB emulator (the moto server): the Store contract and the
 * side-by-side scenarios of store-contract.ts, then what is DynamoDB's own — the item layout with
 * its TTL attribute, expired items the emulator keeps, and capped lists under concurrent pushes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createStoreTable, DynamoStore, storeTableName } from '../../aws/index.js';
import type { Store } from '../../src/index.js';
import { requestHandler } from '../../aws/deadlines.js';
import { storeKeysStartingWith } from '../../aws/dynamodb-keys.js';
import { useMoto } from '../helpers/moto.js';
import { describeStoreContract, type StoreImplementation } from './store-contract.js';
import { describeSameAsMemory } from './store-scenarios.js';

// The contract sends 50 claims (and many lock acquires) at once to an emulator that applies requests
// one at a time (moto-server.py); on a loaded machine the last ones passed the 800 ms a deployed
// ack-path call gets (ACK_CALL_MS), were aborted, and the requests still queued behind them failed the
// next tests too. These tests are about atomicity and expiry, not latency: here an ack-path call gets
// 30 s. The 800 ms deadline itself is tested against a silent endpoint in aws-ingress-deadline.test.ts.
vi.mock('../../aws/deadlines.js', async (importOriginal) => ({ ...(await importOriginal<typeof import('../../aws/deadlines.js')>()), ACK_CALL_MS: 30_000 }));

useMoto();
const tableName = storeTableName('parley-test');
let admin: DynamoDBDocumentClient;
let counter = 0;
const opened: Store[] = [];

beforeAll(async () => {
  const client = new DynamoDBClient({});
  admin = DynamoDBDocumentClient.from(client);
  await createStoreTable(client, tableName);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
afterAll(() => admin?.destroy());

/** A store of its own namespace in the shared table; each peer is another client, as another process would have. */
function stores(peers = 0): { store: DynamoStore; peers: DynamoStore[]; namespace: string } {
  const namespace = `t${++counter}:`;
  const all = Array.from({ length: peers + 1 }, () => new DynamoStore({ tableName, namespace }));
  opened.push(...all);
  return { store: all[0] as DynamoStore, peers: all.slice(1), namespace };
}

/** The raw item, as DynamoDB holds it. */
async function rawItem(key: string): Promise<Record<string, unknown> | undefined> {
  return (await admin.send(new GetCommand({ TableName: tableName, Key: { key }, ConsistentRead: true }))).Item;
}

// Expiry is decided by parley's clock (the emulator never expires items), so the contract runs on a
// fake clock, to the millisecond, as it does for MemoryStore; one test below uses the real clock.
const dynamo: StoreImplementation = {
  async create(peers = 0) {
    vi.useFakeTimers({ toFake: ['Date'] });
    return stores(peers);
  },
  advance: async (ms) => void vi.advanceTimersByTime(ms),
  margin: 0,
  longest: 365 * 24 * 3600 * 1000,
};

describeStoreContract('DynamoDB', dynamo);
describeSameAsMemory('DynamoStore', async () => stores().store, (store) => opened.push(store));

describe('DynamoStore on DynamoDB', () => {
  it('writes one item per key: the value, the TTL attribute in epoch seconds and the exact expiry in ms', async () => {
    const { store, namespace } = stores();
    const before = Date.now();
    await store.set('marker', 'sent', 60_000);
    await store.listPush('history', ['user hi', 'bot hello'], { maxLength: 20, ttlMs: 3_600_000 });
    await store.set('forever', 'x');
    const marker = await rawItem(`${namespace}marker`);
    expect(marker).toMatchObject({ key: `${namespace}marker`, value: 'sent' });
    expect(marker?.expires_at_ms).toBeGreaterThanOrEqual(before + 60_000);
    expect(marker?.expires_at_ms).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(marker?.expires_at).toBe(Math.ceil((marker?.expires_at_ms as number) / 1000));
    const history = await rawItem(`${namespace}history`);
    expect(history).toMatchObject({ items: ['user hi', 'bot hello'] });
    expect(history?.expires_at).toBeGreaterThan(Date.now() / 1000 + 3500);
    expect(await rawItem(`${namespace}forever`)).toEqual({ key: `${namespace}forever`, value: 'x' });
  });

  it('an expired item the table still holds reads as absent and is claimed, locked or pushed to afresh', async () => {
    const { store, namespace } = stores();
    const past = { expires_at: Math.floor(Date.now() / 1000) - 10, expires_at_ms: Date.now() - 10_000 };
    await admin.send(new PutCommand({ TableName: tableName, Item: { key: `${namespace}claim`, value: 'old', ...past } }));
    await admin.send(new PutCommand({ TableName: tableName, Item: { key: `${namespace}lock`, value: 'old-token', ...past } }));
    await admin.send(new PutCommand({ TableName: tableName, Item: { key: `${namespace}list`, items: ['stale'], ...past } }));
    expect(await store.get('claim')).toBeUndefined();
    expect(await store.listRange('list', 0, -1)).toEqual([]);
    expect(await store.releaseLock('lock', 'old-token')).toBe(false);
    expect(await store.extendLock('lock', 'old-token', 1000)).toBe(false);

    // TTLs long enough for the reads after to land inside them on a loaded emulator (the real clock here).
    expect(await store.setIfAbsent('claim', 'new', 60_000)).toBe(true);
    expect(await store.get('claim')).toBe('new');
    expect(await store.acquireLock('lock', 60_000)).toBeTypeOf('string');
    await store.listPush('list', ['fresh'], { ttlMs: 60_000 });
    expect(await store.listRange('list', 0, -1)).toEqual(['fresh']);
  });

  it('a claim updates its item: the ids of claims taken back stay on it, the rest is as a fresh item\'s', async () => {
    const { store, peers: [peer], namespace } = stores(1);
    const marker = { withdrawn: new Set(['gone1']), expires_at: Math.ceil(Date.now() / 1000) + 600, expires_at_ms: Date.now() + 600_000 };
    const expired = { expires_at: Math.floor(Date.now() / 1000) - 10, expires_at_ms: Date.now() - 10_000 };
    await admin.send(new PutCommand({ TableName: tableName, Item: { key: `${namespace}forever`, ...marker } }));
    await admin.send(new PutCommand({ TableName: tableName, Item: { key: `${namespace}short`, items: ['stale'], pushes: ['p1'], ...marker, ...expired } }));

    // over a marker, without a TTL: the claim is kept for good, not for the marker's 10 minutes
    expect(await store.setIfAbsent('forever', 'mine')).toBe(true);
    const forever = await rawItem(`${namespace}forever`);
    expect(forever).toEqual({ key: `${namespace}forever`, value: 'mine', claim: expect.any(String), withdrawn: new Set(['gone1']) });
    // a live claim carrying withdrawn ids is no marker: not claimed again
    expect(await peer!.setIfAbsent('forever', 'theirs')).toBe(false);
    expect(await store.get('forever')).toBe('mine');

    // over an expired list: its entries go; a short TTL is checked to the millisecond, the item deleted no sooner than a marker
    // Short beside a marker's 10 minutes, long enough for the peer's lock below to land inside it on a loaded emulator.
    const before = Date.now();
    expect(await store.setIfAbsent('short', 'brief', 10_000)).toBe(true);
    const short = await rawItem(`${namespace}short`);
    expect(Object.keys(short!).sort()).toEqual(['claim', 'expires_at', 'expires_at_ms', 'key', 'value', 'withdrawn']);
    expect(short?.expires_at_ms).toBeLessThanOrEqual(Date.now() + 10_000);
    expect(short?.expires_at_ms).toBeGreaterThanOrEqual(before + 10_000);
    expect(short?.expires_at).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 600);
    expect(await store.listRange('short', 0, -1)).toEqual([]);
    const token = await peer!.acquireLock('short', 1000);
    expect(token).toBeUndefined();
    // deleted, it leaves a marker: the ids stay (a claim taken back may still be on its way), for a marker's 10 minutes
    expect(await store.delete('short')).toBeUndefined();
    const left = await rawItem(`${namespace}short`);
    expect(Object.keys(left!).sort()).toEqual(['expires_at', 'expires_at_ms', 'key', 'withdrawn']);
    expect(left?.withdrawn).toEqual(new Set(['gone1']));
    expect(left?.expires_at_ms).toBeGreaterThanOrEqual(before + 600_000);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.setIfAbsent('short', 'again', 1000)).toBe(true);
  });

  it('expires on the real clock too: a 300 ms claim is held, then free', async () => {
    const { store } = stores();
    expect(await store.setIfAbsent('short', 'a', 300)).toBe(true);
    expect(await store.setIfAbsent('short', 'b', 300)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.get('short')).toBeUndefined();
    expect(await store.setIfAbsent('short', 'c', 300)).toBe(true);
  });

  it('keeps a capped list at its cap, with no item twice, under 60 concurrent pushes from 4 clients', async () => {
    // Concurrency is the point here, not latency: on a loaded machine the emulator, applying requests
    // one at a time, can take longer than the 3 s a deployed client gives an attempt; the SDK's
    // retries are tested on their own (dynamodb-list-retry.test.ts).
    const patient = Array.from({ length: 4 }, () => new DynamoDBClient({ requestHandler: requestHandler(30_000) }));
    const namespace = `t${++counter}:`;
    const [store, ...peers] = patient.map((client) => new DynamoStore({ tableName, namespace, client }));
    onTestFinished(() => patient.forEach((client) => client.destroy()));
    const all = [store!, ...peers];
    await Promise.all(Array.from({ length: 60 }, (_, i) => (all[i % all.length] as DynamoStore).listPush('capped', [`item ${i}`], { maxLength: 10, ttlMs: 60_000 })));
    const kept = await store!.listRange('capped', 0, -1);
    expect(kept).toHaveLength(10);
    expect(new Set(kept).size).toBe(10);
    // one more capped push trims to the newest 10, ending with it
    await store!.listPush('capped', ['last'], { maxLength: 10 });
    const after = await store!.listRange('capped', 0, -1);
    expect(after).toHaveLength(10);
    expect(after.slice(0, 9)).toEqual(kept.slice(1));
    expect(after.at(-1)).toBe('last');
  });

  it('storeKeysStartingWith pages through the whole table: the live keys under the prefix, in its namespace only, without it', async () => {
    const { store, namespace } = stores();
    const other = stores().store;
    const wanted = Array.from({ length: 7 }, (_, i) => `parley:slack:installation:-:T${i}`);
    for (const key of wanted) await store.set(key, 'sealed');
    await store.set('parley:history:slack:C1', 'not under the prefix');
    await other.set('parley:slack:installation:-:T0THERS', 'another namespace');
    await admin.send(new PutCommand({ TableName: tableName, Item: { key: `${namespace}parley:slack:installation:-:TEXPIRED`, value: 'x', expires_at_ms: Date.now() - 1000 } }));
    // a marker (only the ids of claims taken back) reads as an absent key
    await admin.send(new PutCommand({ TableName: tableName, Item: { key: `${namespace}parley:slack:installation:-:TMARKER`, withdrawn: new Set(['gone1']), expires_at_ms: Date.now() + 600_000 } }));
    // Pages of 2 items read from a table holding many more: every page has to be followed.
    expect(await storeKeysStartingWith('parley:slack:installation:', { tableName, namespace, pageSize: 2 })).toEqual(wanted);
    expect(await storeKeysStartingWith('parley:slack:installation:', { tableName, namespace })).toEqual(wanted);
  });

  it('ping fails with the SDK error when the table does not exist', async () => {
    const missing = new DynamoStore({ tableName: 'parley-test-no-such-table' });
    opened.push(missing);
    await expect(missing.ping()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
