/**
 * DynamoTally on a real DynamoDB emulator (the moto server): the Tally contract, then what budgets
 * need of it across processes — two tallies on two clients, as two Lambda containers, see one total —
 * and an add whose answer is lost (the SDK sends it again) counted once.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStoreTable, dynamoDbFromConfig, DynamoTally, storeTableName } from '../../aws/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import type { BudgetStatus } from '../../src/console/api.js';
import { Spend } from '../../src/ops/spend.js';
import { startLostAnswerProxy } from '../helpers/lost-answer.js';
import { useMoto } from '../helpers/moto.js';
import { describeTallyContract } from './tally-contract.js';

const moto = useMoto();
const tableName = storeTableName('parley-tally-test');
let counter = 0;
const opened: DynamoTally[] = [];

function tally(namespace = `t${++counter}:`): DynamoTally {
  const created = new DynamoTally({ tableName, namespace });
  opened.push(created);
  return created;
}

beforeAll(async () => {
  const client = new DynamoDBClient({});
  await createStoreTable(client, tableName);
  client.destroy();
});
afterAll(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});

describeTallyContract([['DynamoTally', async () => tally()]]);

describe('DynamoTally across processes', () => {
  it('two tallies on two clients count into one total', async () => {
    const namespace = `shared${++counter}:`;
    const [a, b] = [tally(namespace), tally(namespace)];
    await Promise.all([...Array.from({ length: 10 }, () => a.add('day', { total: 1.5 }, 60_000)), ...Array.from({ length: 10 }, () => b.add('day', { total: 0.5 }, 60_000))]);
    expect(await a.read('day')).toEqual({ total: 20 });
    expect(await b.read('day', ['total', 'absent'])).toEqual({ total: 20 });
  });

  it("an add DynamoDB applied but answered with a 500, or too late (the SDK sends it again), is counted once", async () => {
    for (const fails of ['500', undefined] as const) {
      const namespace = `lost${++counter}:`;
      // The first add's answer is lost; another process adds between it and the SDK's retry.
      const other = tally(namespace);
      const proxy = await startLostAnswerProxy(moto().url, { picks: (body) => body.includes('"n:total"'), fails, holdMs: 4000, afterApplied: async () => void (await other.add('day', { total: 0.25 }, 60_000)) });
      // Each request has 2 s: the emulator answers the others inside it on a loaded machine (500 ms may not); the lost answer's 4 s not.
      const client = new DynamoDBClient({ endpoint: proxy.url, requestHandler: { requestTimeout: 2000, throwOnRequestTimeout: true } });
      const lost = new DynamoTally({ tableName, namespace, client });
      try {
        await lost.add('day', { total: 1.5, 'tenant:T1': 1.5 }, 60_000);
        expect(proxy.picked.length).toBeGreaterThan(1); // it was sent again
        expect(await lost.read('day')).toEqual({ total: 1.75, 'tenant:T1': 1.5 });
        await lost.add('day', { total: 1 }, 60_000);
        expect(await other.read('day', ['total'])).toEqual({ total: 2.75 });
      } finally {
        client.destroy();
        await proxy.close();
      }
    }
  });

  it('keeps the ids of recent adds only: the item stays small however many adds it had', async () => {
    const namespace = `ids${++counter}:`;
    const counted = tally(namespace);
    for (let i = 0; i < 70; i++) await counted.add('day', { total: 1 }, 60_000);
    expect(await counted.read('day')).toEqual({ total: 70 });
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: { key: `${namespace}day#0` }, ConsistentRead: true }));
    documents.destroy();
    expect((Item?.pushes as string[]).length).toBeLessThan(64);
  });

  it('a budget holds across two bots that share only the DynamoDB table (no Redis)', async () => {
    const namespace = `budget${++counter}:`;
    const ADMIN_TOKEN = 'dynamo-tally-admin-token-5c1e';
    const config = loadConfig({ LOG_LEVEL: 'silent', AI_BUDGET_USD_PER_DAY: '20', ADMIN_TOKEN });
    // Another container's spend, counted through its own tally.
    const elsewhere = new Spend(tally(namespace), config.budget);
    const bot = createBot({ config, tally: tally(namespace) });
    const overall = async () => {
      const res = await bot.fetch(new Request('http://127.0.0.1/console/api/budgets', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
      const view = (await res.json()) as { budgets: BudgetStatus[] };
      return view.budgets.find((b) => b.scope === 'overall' && b.period === 'day');
    };
    try {
      await elsewhere.record('gpt-4o-mini', 'T1', 15);
      expect(await overall()).toMatchObject({ spentUsd: 15, state: 'ok' });
      await elsewhere.record('gpt-4o-mini', 'T1', 6);
      expect(await overall()).toMatchObject({ spentUsd: 21, state: 'exceeded' });
    } finally {
      await bot.close();
    }
  });
});

describe('dynamoDbFromConfig', () => {
  it('gives a DynamoTally beside the store, unless REDIS_URL keeps the counters on Redis', () => {
    const both = dynamoDbFromConfig(loadConfig({ DYNAMODB_TABLE_PREFIX: 'parley-x', REDIS_URL: 'redis://127.0.0.1:6379' }));
    expect(both.store).toBeDefined();
    expect(both.tally).toBeUndefined();
    const alone = dynamoDbFromConfig(loadConfig({ DYNAMODB_TABLE_PREFIX: 'parley-x' }));
    expect(alone.tally).toBeInstanceOf(DynamoTally);
    void both.store?.close();
    void alone.store?.close();
    void alone.tally?.close();
  });
});
