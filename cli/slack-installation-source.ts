/**
 * Where `parley slack reseal` finds the stored Slack installations: the store the bot keeps them
 * in — DynamoDB when DYNAMODB_TABLE_PREFIX is set (it wins over REDIS_URL for the store, as in
 * `parley serve`), else Redis — and how to list them there: a filtered Scan of the store's table,
 * or a SCAN of every Redis primary. The Store interface has no listing; each store lists its own way.
 */
import { DynamoStore, storeTableName } from '../aws/index.js';
import { CLI_CLIENT } from '../aws/deadlines.js';
import { storeKeysStartingWith } from '../aws/dynamodb-keys.js';
import { createDynamoDbClient } from '../aws/dynamodb-sdk.js';
import { RedisStore, type Config, type Store } from '../src/index.js';
import { connectRedis, whenReady, type RedisClient } from '../src/store/redis-connection.js';
import { awsEndpoint, awsErrorText } from './check-aws.js';

export interface InstallationSource {
  store: Store;
  /** The storage keys of every installation (as the store takes them), sorted. */
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

/** The source, or why there is none: `code` 2 for a setting missing, 1 for a store not reached. */
export type Opened = { source: InstallationSource } | { problem: string; code: number };

const NO_STORE =
  'reads the installations in DynamoDB (DYNAMODB_TABLE_PREFIX) or Redis (REDIS_URL), with the settings the bot runs with. In memory they belong to the running process.';

/** The installations' store from the configuration; `prefix` is where every installation's key starts. */
export async function openInstallations(config: Config, prefix: string): Promise<Opened> {
  if (config.dynamodb.tablePrefix) return openDynamoDb(storeTableName(config.dynamodb.tablePrefix), prefix);
  if (config.redisUrl) return openRedis(config.redisUrl, config.redisPrefix, prefix);
  return { problem: NO_STORE, code: 2 };
}

async function openDynamoDb(table: string, prefix: string): Promise<Opened> {
  // Deadlines on each call (CLI_CLIENT): an endpoint that never answers is an error in seconds.
  const client = createDynamoDbClient('parley slack reseal', CLI_CLIENT);
  const store = new DynamoStore({ tableName: table, client });
  const close = async () => {
    await store.close();
    client.destroy();
  };
  try {
    await store.ping();
  } catch (error) {
    await close();
    const e = error as Error;
    const fix = e.name === 'ResourceNotFoundException' ? ' (create it: parley aws setup)' : '';
    return { problem: `cannot read the DynamoDB table ${table} (DYNAMODB_TABLE_PREFIX) at ${awsEndpoint('DYNAMODB')}: ${awsErrorText(e)}${fix}`, code: 1 };
  }
  // Lock items (`<key>:write-lock`) share the prefix; they are not installations.
  const keys = async () => (await storeKeysStartingWith(prefix, { client, tableName: table })).filter((key) => !key.endsWith(':write-lock'));
  return { source: { store, keys, close } };
}

async function openRedis(url: string, redisPrefix: string, prefix: string): Promise<Opened> {
  const redis = connectRedis(url, { lazyConnect: true, enableOfflineQueue: true });
  redis.on('error', () => undefined); // told once below, not on every reconnect
  redis.connect().catch(() => undefined);
  if (!(await whenReady(redis, 5000).then(() => true, () => false))) {
    redis.disconnect();
    return { problem: 'cannot reach Redis (REDIS_URL) within 5 s. Check that it is up and the setting is right (parley check tells more).', code: 1 };
  }
  // Store keys start with "parley:" already; another prefix is put in front of them (as the bot does).
  const namespace = redisPrefix === 'parley' ? '' : `${redisPrefix}:`;
  const close = async () => redis.disconnect();
  return { source: { store: new RedisStore(redis, namespace), keys: () => redisKeys(redis, namespace, prefix), close } };
}

/** The keys under `prefix` (without the namespace), from every primary of a Cluster. */
async function redisKeys(redis: RedisClient, namespace: string, prefix: string): Promise<string[]> {
  const nodes = 'nodes' in redis && typeof redis.nodes === 'function' ? redis.nodes('master') : [redis];
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${namespace}${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of batch) if (!key.endsWith(':write-lock')) found.add(key.slice(namespace.length));
    } while (cursor !== '0');
  }
  return [...found].sort();
}
