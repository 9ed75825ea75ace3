/**
 * DynamoTally with very many tenants (moto server): one counter per tenant outgrows one 400 KB
 * item, so the counters are spread over shard items. Spend keeps counting past that size, the
 * totals stay exact, an add whose answer is lost in a shard is counted once, and the single item
 * of earlier versions is still read and added in.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStoreTable, DynamoTally, storeTableName } from '../../aws/index.js';
import { Spend } from '../../src/ops/spend.js';
import { startLostAnswerProxy } from '../helpers/lost-answer.js';
import { useMoto } from '../helpers/moto.js';

const moto = useMoto();
const tableName = storeTableName('parley-tally-shards-test');
let counter = 0;
const opened: DynamoTally[] = [];
const NOW = new Date('2026-12-06T10:00:00Z');
const DAY = 'parley:spend:day:2026-12-06';

/**
 * The emulator answers one request at a time, and an update of a 600 KB item takes it a while: on a
 * loaded CI machine a request waited past parley's 3 s per attempt, three times, and failed a test
 * that is not about deadlines. The tests' own client waits longer (the lost-answer test brings its own).
 */
let patient: DynamoDBClient | undefined;
const patientClient = () => (patient ??= new DynamoDBClient({ requestHandler: { requestTimeout: 30_000, throwOnRequestTimeout: true } }));

function tally(namespace = `s${++counter}:`, client: DynamoDBClient = patientClient()): DynamoTally {
  const created = new DynamoTally({ tableName, namespace, client });
  opened.push(created);
  return created;
}

/** Run `work` for 0…count-1, `width` at a time. */
async function inParallel(count: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await work(next++);
  }));
}

beforeAll(async () => {
  const client = new DynamoDBClient({});
  await createStoreTable(client, tableName);
  client.destroy();
});
afterAll(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
  patient?.destroy();
});

describe('DynamoTally with very many tenants', () => {
  it('spend keeps counting past the 400 KB one item would hold, and the totals stay exact', async () => {
    const namespace = `many${++counter}:`;
    const spend = new Spend(tally(namespace), { tenantDayUsd: 1 });
    // 3,000-character ids (few adds, on an emulator that takes one request at a time): 200 tenants
    // are some 600 KB of counters a period, past one item's 400 KB, as 12,000 Slack ids are.
    const tenant = (i: number) => `T${String(i).padStart(6, '0')}`.padEnd(3000, 'x');
    const tenants = 200;
    await inParallel(tenants, 8, (i) => spend.record('gpt-4o-mini', tenant(i), 0.01 * (1 + (i % 3)), NOW));
    // The one past every limit, counted once the others are in.
    await spend.record('gpt-4o-mini', tenant(7), 5, NOW);

    const { summary, statuses } = await spend.state(NOW);
    const expected = Array.from({ length: tenants }, (_, i) => 0.01 * (1 + (i % 3))).reduce((a, b) => a + b, 0) + 5;
    const byTenant = Object.values(summary.today.byTenant);
    expect(byTenant).toHaveLength(tenants);
    expect(Object.keys(summary.month.byTenant)).toHaveLength(tenants);
    expect(summary.today.totalUsd).toBeCloseTo(expected, 6);
    expect(summary.month.totalUsd).toBeCloseTo(expected, 6);
    expect(byTenant.reduce((a, b) => a + b, 0)).toBeCloseTo(summary.today.totalUsd, 6);
    expect(summary.today.byModel).toEqual({ 'gpt-4o-mini': expect.closeTo(expected, 6) });
    expect(summary.today.byTenant[tenant(7)]).toBeCloseTo(5.02, 9);
    expect(statuses.filter((s) => s.state === 'exceeded')).toEqual([expect.objectContaining({ tenant: tenant(7), period: 'day' })]);
    // The budget check reads only the items its fields live in.
    expect(await spend.exceeded(tenant(7), NOW)).toMatchObject({ tenant: tenant(7), state: 'exceeded' });
    expect(await spend.exceeded(tenant(8), NOW)).toBeUndefined();
  }, 60_000);

  it('read(key, fields) returns what read(key) has of those fields, absent ones left out', async () => {
    const counted = tally();
    const amounts = Object.fromEntries([['total', 3], ['model:m1', 2], ['model:m2', 1], ...Array.from({ length: 40 }, (_, i) => [`tenant:T${i}`, i + 1])]);
    expect(await counted.add('k', amounts, 60_000)).toEqual(amounts);
    expect(await counted.add('k', { total: 1, 'tenant:T3': 0.5 }, 60_000)).toEqual({ total: 4, 'tenant:T3': 4.5 });
    const all = await counted.read('k');
    expect(all).toEqual({ ...amounts, total: 4, 'tenant:T3': 4.5 });
    const fields = ['total', 'tenant:T3', 'tenant:T39', 'model:m2', 'tenant:absent', 'absent'];
    expect(await counted.read('k', fields)).toEqual({ total: 4, 'tenant:T3': 4.5, 'tenant:T39': 40, 'model:m2': 1 });
    expect(await counted.read('k', [])).toEqual({});
    expect(await counted.read('missing', fields)).toEqual({});
  });

  it('an add to a shard whose answer is lost (the SDK sends it again) is counted once', async () => {
    const namespace = `lostshard${++counter}:`;
    const other = tally(namespace);
    const proxy = await startLostAnswerProxy(moto().url, { picks: (body) => body.includes('"n:tenant:T1"') && !body.includes('"n:total"'), fails: '500', afterApplied: async () => void (await other.add('day', { total: 0.25, 'tenant:T1': 0.25 }, 60_000)) });
    // 2 s a request: the emulator answers inside it on a loaded machine (500 ms may not, and a third timeout fails the add).
    const client = new DynamoDBClient({ endpoint: proxy.url, requestHandler: { requestTimeout: 2000, throwOnRequestTimeout: true } });
    try {
      expect(await tally(namespace, client).add('day', { total: 1.5, 'tenant:T1': 1.5 }, 60_000)).toEqual({ total: expect.any(Number), 'tenant:T1': 1.75 });
      expect(proxy.picked.length).toBeGreaterThan(1); // it was sent again
      expect(await other.read('day')).toEqual({ total: 1.75, 'tenant:T1': 1.75 });
    } finally {
      client.destroy();
      await proxy.close();
    }
  });

  it("a period's single item from before the upgrade is still read and added in", async () => {
    const namespace = `old${++counter}:`;
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const expiresAtMs = Date.now() + 60_000;
    // As versions before the shards wrote it: every counter in the one item `<key>`.
    await documents.send(new PutCommand({ TableName: tableName, Item: { key: `${namespace}${DAY}`, 'n:total': 10, 'n:model:m': 10, 'n:tenant:OLD': 6, 'n:tenant:BOTH': 4, expires_at_ms: expiresAtMs, expires_at: Math.ceil(expiresAtMs / 1000), pushes: ['x'] } }));
    documents.destroy();
    const counted = tally(namespace);
    // An add's totals (which raise the alerts) include the old item's.
    expect(await counted.add(DAY, { total: 1, 'model:m': 1, 'tenant:BOTH': 1 }, 60_000)).toEqual({ total: 11, 'model:m': 11, 'tenant:BOTH': 5 });
    expect(await counted.read(DAY)).toEqual({ total: 11, 'model:m': 11, 'tenant:OLD': 6, 'tenant:BOTH': 5 });
    expect(await counted.read(DAY, ['total', 'tenant:OLD', 'tenant:BOTH', 'tenant:NEW'])).toEqual({ total: 11, 'tenant:OLD': 6, 'tenant:BOTH': 5 });
    const spend = new Spend(counted, {});
    expect((await spend.summary(NOW)).today).toEqual({ totalUsd: 11, byModel: { m: 11 }, byTenant: { OLD: 6, BOTH: 5 } });
    expect((await spend.summary(NOW)).month.totalUsd).toBe(0);
  });
});
