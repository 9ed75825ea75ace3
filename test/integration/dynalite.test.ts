/**
 * The other DynamoDB emulator the issue names, dynalite (npm, in this process): it has no
 * UpdateTimeToLive and no transactions and never expires items. `parley aws setup` goes on without
 * TTL and says so; DynamoStore passes the same Store contract and side-by-side scenarios on it as
 * on moto (which caught a list trim that only worked where REMOVE indexes refer to the old list).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoStore, setupAws, storeTableName, type SetupStep } from '../../aws/index.js';
import { loadConfig, type Store } from '../../src/index.js';
import { describeStoreContract } from './store-contract.js';
import { describeSameAsMemory } from './store-scenarios.js';

// The contract sends 50 claims (and many lock acquires) at once to dynalite, which answers them in this
// test's own process; on a loaded machine the last ones passed the 800 ms a deployed ack-path call gets
// (ACK_CALL_MS) and were aborted. These tests are about atomicity and expiry, not latency: here an
// ack-path call gets 30 s. The 800 ms deadline itself is tested in aws-ingress-deadline.test.ts.
vi.mock('../../aws/deadlines.js', async (importOriginal) => ({ ...(await importOriginal<typeof import('../../aws/deadlines.js')>()), ACK_CALL_MS: 30_000 }));

const dynalite = createRequire(import.meta.url)('dynalite') as (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const variables = ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
const saved = Object.fromEntries(variables.map((name) => [name, process.env[name]]));
const opened: Store[] = [];
let counter = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  for (const name of variables) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await new Promise((resolve) => server.close(resolve));
});

describe('parley aws setup on dynalite', () => {
  it('creates the tables, reports TTL as unsupported instead of failing, and finds them the second time', async () => {
    const config = loadConfig({ DYNAMODB_TABLE_PREFIX: 'lite' });
    const summary = (steps: SetupStep[]) => steps.map((step) => [step.name, step.outcome, step.detail]);
    expect(summary(await setupAws(config))).toEqual([
      ['lite-store', 'created', 'TTL on expires_at not supported by this endpoint: expiry is checked on read'],
      ['ai_conversations', 'created', 'TTL on expires_at not supported by this endpoint: rows are kept'],
    ]);
    expect(summary(await setupAws(config))).toEqual([
      ['lite-store', 'exists', 'TTL on expires_at not supported by this endpoint: expiry is checked on read'],
      ['ai_conversations', 'exists', 'TTL on expires_at not supported by this endpoint: rows are kept'],
    ]);
    const client = new DynamoDBClient({});
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'lite-store' }));
    client.destroy();
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'key', KeyType: 'HASH' }]);
  });
});

describeStoreContract('dynalite', {
  async create(peers = 0) {
    vi.useFakeTimers({ toFake: ['Date'] });
    const namespace = `t${++counter}:`;
    const all = Array.from({ length: peers + 1 }, () => new DynamoStore({ tableName: storeTableName('lite'), namespace }));
    opened.push(...all);
    return { store: all[0] as Store, peers: all.slice(1) };
  },
  advance: async (ms) => void vi.advanceTimersByTime(ms),
  margin: 0,
  longest: 365 * 24 * 3600 * 1000,
});

describeSameAsMemory('DynamoStore on dynalite', async () => {
  const store = new DynamoStore({ tableName: storeTableName('lite'), namespace: `s${++counter}:` });
  opened.push(store);
  return store;
}, (store) => opened.push(store));
