/**
 * ParleyInstallationStore on the real backends: Redis on 127.0.0.1:6379 (the raw value read back
 * with ioredis) and DynamoStore on the moto server (the raw item read back with the SDK). No token
 * is stored in the clear; a record sealed with an old key is read with the rotated list and sealed
 * again with the first key.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../adapters/slack/installation-crypto.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { createStoreTable, DynamoStore, storeTableName } from '../../aws/index.js';
import { RedisStore } from '../../src/store/index.js';
import { useMoto } from '../helpers/moto.js';
import { installation } from '../helpers/slack-installations.js';
import { uniquePrefix, useRedis } from './redis-helpers.js';

const query = (teamId: string) => ({ teamId, enterpriseId: undefined, isEnterpriseInstall: false }) as const;
const key = () => randomBytes(32);

describe('ParleyInstallationStore on Redis', () => {
  const prefix = uniquePrefix();
  const redis = useRedis(prefix);

  it('the raw Redis value holds no token in the clear, and round-trips', async () => {
    const store = new ParleyInstallationStore({ store: new RedisStore(await redis.connection(), `${prefix}:`), keys: [key()] });
    await store.storeInstallation(installation('T0REDIS', 'xoxb-redis-secret-token'));
    const raw = await redis.admin().get(`${prefix}:parley:slack:installation:-:T0REDIS`);
    expect(raw).toBeTruthy();
    expect(raw).not.toMatch(/xox[a-z]-|secret-token|refresh/);
    expect(JSON.parse(raw!)).toEqual({ v: 1, key: expect.any(String), iv: expect.any(String), tag: expect.any(String), data: expect.any(String) });
    expect(await redis.admin().ttl(`${prefix}:parley:slack:installation:-:T0REDIS`)).toBe(-1); // no TTL
    expect((await store.fetchInstallation(query('T0REDIS'))).bot?.token).toBe('xoxb-redis-secret-token');
  });

  it('decrypts with a rotated key list (old key second) and re-encrypts with the first key on read', async () => {
    const [oldKey, newKey] = [key(), key()];
    const redisKey = `${prefix}:parley:slack:installation:-:T0ROTATE`;
    await new ParleyInstallationStore({ store: new RedisStore(await redis.connection(), `${prefix}:`), keys: [oldKey] }).storeInstallation(installation('T0ROTATE'));
    expect(JSON.parse((await redis.admin().get(redisKey))!).key).toBe(keyId(oldKey));
    // Another process, restarted with SLACK_INSTALLATION_KEY=<new>,<old>.
    const rotated = new ParleyInstallationStore({ store: new RedisStore(await redis.connection(), `${prefix}:`), keys: [newKey, oldKey] });
    expect((await rotated.fetchInstallation(query('T0ROTATE'))).bot?.token).toBe('xoxb-T0ROTATE-secret-token');
    const after = (await redis.admin().get(redisKey))!;
    expect(JSON.parse(after).key).toBe(keyId(newKey));
    expect(after).not.toMatch(/xox[a-z]-/);
    // The old key can now be dropped.
    const newOnly = new ParleyInstallationStore({ store: new RedisStore(await redis.connection(), `${prefix}:`), keys: [newKey] });
    expect((await newOnly.fetchInstallation(query('T0ROTATE'))).team?.id).toBe('T0ROTATE');
  });

  it('deletes', async () => {
    const store = new ParleyInstallationStore({ store: new RedisStore(await redis.connection(), `${prefix}:`), keys: [key()] });
    await store.storeInstallation(installation('T0GONE'));
    await store.deleteInstallation(query('T0GONE'));
    expect(await redis.admin().exists(`${prefix}:parley:slack:installation:-:T0GONE`)).toBe(0);
    expect(await store.findInstallation(query('T0GONE'))).toBeUndefined();
  });
});

describe('ParleyInstallationStore on DynamoDB (moto)', () => {
  useMoto();
  const tableName = storeTableName('parley-install-test');
  let admin: DynamoDBDocumentClient;
  const opened: DynamoStore[] = [];
  const dynamoStore = (namespace: string) => {
    const store = new DynamoStore({ tableName, namespace });
    opened.push(store);
    return store;
  };
  beforeAll(async () => {
    const client = new DynamoDBClient({});
    admin = DynamoDBDocumentClient.from(client);
    await createStoreTable(client, tableName);
  });
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
    admin?.destroy();
  });

  it('round-trips an installation, sealed in the item, and re-encrypts after a key rotation', async () => {
    const [oldKey, newKey] = [key(), key()];
    const store = new ParleyInstallationStore({ store: dynamoStore('i1:'), keys: [oldKey] });
    await store.storeInstallation(installation('T0DYNAMO', 'xoxb-dynamo-secret-token'));
    const item = (await admin.send(new GetCommand({ TableName: tableName, Key: { key: 'i1:parley:slack:installation:-:T0DYNAMO' }, ConsistentRead: true }))).Item;
    expect(item).toBeDefined();
    expect(JSON.stringify(item)).not.toMatch(/xox[a-z]-|secret-token/);
    expect(Object.keys(item!).sort()).toEqual(['key', 'value']); // no expires_at: kept until uninstalled
    expect(await store.fetchInstallation(query('T0DYNAMO'))).toEqual({ ...installation('T0DYNAMO', 'xoxb-dynamo-secret-token'), installedAt: expect.any(Number) });

    const rotated = new ParleyInstallationStore({ store: dynamoStore('i1:'), keys: [newKey, oldKey] });
    expect((await rotated.fetchInstallation(query('T0DYNAMO'))).bot?.token).toBe('xoxb-dynamo-secret-token');
    const resealed = (await admin.send(new GetCommand({ TableName: tableName, Key: { key: 'i1:parley:slack:installation:-:T0DYNAMO' }, ConsistentRead: true }))).Item;
    expect(JSON.parse(resealed!.value as string).key).toBe(keyId(newKey));

    await rotated.deleteInstallation(query('T0DYNAMO'));
    expect(await rotated.findInstallation(query('T0DYNAMO'))).toBeUndefined();
  });
});
