/**
 * The conversation log on a real DynamoDB emulator (the moto server), read back with plain
 * Scan and Query: the rows are the seed's `ai_conversations` table — conversation_id, timestamp,
 * input, output — with platform, user, model, tokens, cost and latency beside them. Then the
 * ConversationLog contract (conversation-log-contract.ts), each test on a table of its own.
 */
import { readFileSync } from 'node:fs';
import { CreateTableCommand, DescribeTimeToLiveCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversationLogTable, DynamoConversationLog, dynamoDbFromConfig } from '../../aws/index.js';
import { loadConfig, type ConversationEntry } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { useMoto } from '../helpers/moto.js';
import { until } from '../helpers/until.js';
import { assistantReplies, startWebBot } from '../helpers/web-bot.js';
import { describeConversationLogContract, FIXTURE } from './conversation-log-contract.js';

useMoto();
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const TABLE = 'ai_conversations';
let client: DynamoDBClient;
let admin: DynamoDBDocumentClient;
let log: DynamoConversationLog;
let ai: FakeOpenAi;
/** The logs the contract opened, each on a table of its own. */
const opened: DynamoConversationLog[] = [];
let tables = 0;

beforeAll(async () => {
  client = new DynamoDBClient({});
  admin = DynamoDBDocumentClient.from(client);
  await createConversationLogTable(client, TABLE);
  log = new DynamoConversationLog({ tableName: TABLE });
  ai = await startFakeOpenAi();
});
afterAll(async () => {
  await ai?.close();
  await log?.close();
  await Promise.all(opened.map((each) => each.close()));
  admin?.destroy();
});

/** Every item of one conversation, straight from the table (no parley code in the way). */
async function rows(conversationId: string): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await admin.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
  return Items.filter((item) => item.conversation_id === conversationId).sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp)));
}

function entry(conversationId: string, n: number, extra: Partial<ConversationEntry> = {}): ConversationEntry {
  return {
    conversationId,
    timestamp: new Date(Date.UTC(2026, 11, 1, 9, 0, n)).toISOString(),
    platform: 'slack',
    user: 'U123',
    input: `question ${n}`,
    output: `answer ${n}`,
    model: 'gpt-4o-mini',
    inputTokens: 100 + n,
    outputTokens: 20 + n,
    costUsd: 0.000027,
    latencyMs: 1200 + n,
    ...extra,
  };
}

describe('DynamoConversationLog on DynamoDB', () => {
  it('writes one item per exchange with the seed table\'s keys and snake_case attributes', async () => {
    await log.record(entry('T1:C1:1700000000.000100', 1, { tenant: 'T1' }));
    expect(await rows('T1:C1:1700000000.000100')).toEqual([
      {
        conversation_id: 'T1:C1:1700000000.000100',
        timestamp: '2026-12-01T09:00:01.000Z',
        platform: 'slack',
        user_id: 'U123',
        tenant: 'T1',
        input: 'question 1',
        output: 'answer 1',
        model: 'gpt-4o-mini',
        input_tokens: 101,
        output_tokens: 21,
        cost_usd: 0.000027,
        latency_ms: 1201,
      },
    ]);
  });

  it('with CONVERSATION_LOG_TTL_SECONDS a row carries expires_at, that long after it was written, and the table deletes by it (TTL on)', async () => {
    const ttlSeconds = 30 * 24 * 3600;
    const kept = dynamoDbFromConfig(loadConfig({ CONVERSATION_LOG_TABLE: TABLE, CONVERSATION_LOG_TTL_SECONDS: String(ttlSeconds) })).conversationLog!;
    try {
      const before = Math.floor(Date.now() / 1000);
      await kept.record(entry('conv-kept-a-month', 1));
      const after = Math.ceil(Date.now() / 1000);
      const [row] = await rows('conv-kept-a-month');
      expect(row?.expires_at).toBeGreaterThanOrEqual(before + ttlSeconds);
      expect(row?.expires_at).toBeLessThanOrEqual(after + ttlSeconds);
      expect((await kept.list('conv-kept-a-month')).map((e) => e.input)).toEqual(['question 1']);
      const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: TABLE }))).TimeToLiveDescription;
      expect(ttl).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expires_at' });
    } finally {
      await kept.close();
    }
  });

  it("setup on a log table made elsewhere with TTL on its own attribute leaves that TTL as it is, and says so", async () => {
    const elsewhere = 'ai_conversations_own_ttl';
    await client.send(
      new CreateTableCommand({
        TableName: elsewhere,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'conversation_id', KeyType: 'HASH' }, { AttributeName: 'timestamp', KeyType: 'RANGE' }],
        AttributeDefinitions: [{ AttributeName: 'conversation_id', AttributeType: 'S' }, { AttributeName: 'timestamp', AttributeType: 'S' }],
      }),
    );
    await client.send(new UpdateTimeToLiveCommand({ TableName: elsewhere, TimeToLiveSpecification: { AttributeName: 'purge_at', Enabled: true } }));
    expect(await createConversationLogTable(client, elsewhere)).toMatchObject({ outcome: 'exists', ttl: { on: 'purge_at' } });
    const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: elsewhere }))).TimeToLiveDescription;
    expect(ttl).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'purge_at' });
  });

  it('lists a conversation oldest first, the newest `limit` of it, and nothing of other conversations', async () => {
    for (const n of [3, 1, 2, 4]) await log.record(entry('conv-list', n));
    await log.record(entry('conv-other', 9));
    expect((await log.list('conv-list')).map((e) => e.input)).toEqual(['question 1', 'question 2', 'question 3', 'question 4']);
    expect((await log.list('conv-list', 2)).map((e) => e.input)).toEqual(['question 3', 'question 4']);
    expect(await log.list('conv-list', 1)).toEqual([entry('conv-list', 4)]);
    expect(await log.list('conv-none')).toEqual([]);
  });

  it('lists past DynamoDB\'s 1 MB page: long exchanges take several pages to make `limit`', async () => {
    // A table of its own: 1.6 MB here would push the other tests' rows past the shared table's first Scan page.
    const own = await freshLog();
    const long = 'x'.repeat(20_000);
    await Promise.all(Array.from({ length: 80 }, (_, n) => own.record(entry('conv-long', n, { output: `${long} ${n}` }))));
    const listed = await own.list('conv-long', 80);
    expect(listed).toHaveLength(80);
    expect(listed[0]!.input).toBe('question 0');
    expect(listed.at(-1)!.input).toBe('question 79');
  });

  it('stores a rating as the item\'s feedback map, with its exchange_id', async () => {
    await log.record(entry('conv-rated', 1, { id: 'slack.Ev1' }));
    await log.record(entry('conv-rated', 2, { id: 'slack.Ev2' }));
    const feedback = { rating: 'bad' as const, reason: 'Wrong answer.', at: '2026-12-01T09:01:00.000Z', user: 'U123' };
    expect(await log.rate('conv-rated', 'slack.Ev1', feedback)).toEqual({});
    expect((await rows('conv-rated')).map((row) => [row.exchange_id, row.feedback])).toEqual([
      ['slack.Ev1', feedback],
      ['slack.Ev2', undefined],
    ]);
  });

  it('writes only attributes the README names for the table (an answer, a rating, an apology, a withheld answer, a cut one)', async () => {
    const kept = dynamoDbFromConfig(loadConfig({ CONVERSATION_LOG_TABLE: TABLE, CONVERSATION_LOG_TTL_SECONDS: '3600' })).conversationLog!;
    try {
      await kept.record(entry('conv-every-attribute', 1, { id: 'slack.Ev10', tenant: 'T1' }));
      await kept.rate('conv-every-attribute', 'slack.Ev10', { rating: 'good', at: '2026-12-01T09:01:00.000Z', user: 'U123' });
      await kept.record(entry('conv-every-attribute', 2, { outcome: 'apologised', output: 'Sorry', model: 'none', inputTokens: 0, outputTokens: 0, costUsd: 0 }));
      await kept.record(entry('conv-every-attribute', 3, { id: 'intercom.n3', outcome: 'withheld' }));
      await kept.record(entry('conv-every-attribute', 4, { input: 'x'.repeat(360_000) }));
    } finally {
      await kept.close();
    }
    const written = new Set((await rows('conv-every-attribute')).flatMap((row) => Object.keys(row)));
    const section = readme.slice(readme.indexOf('* **The conversation log** is'), readme.indexOf('* **Lists past 400 KB.**'));
    expect([...written].filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
    expect([...written].sort()).toEqual(expect.arrayContaining(['exchange_id', 'feedback', 'outcome', 'truncated', 'expires_at']));
  });

  it('keeps two exchanges recorded in the same millisecond, the later one a millisecond on', async () => {
    await log.record(entry('conv-same-ms', 5, { input: 'first' }));
    await log.record(entry('conv-same-ms', 5, { input: 'second' }));
    expect((await rows('conv-same-ms')).map((row) => [row.timestamp, row.input])).toEqual([
      ['2026-12-01T09:00:05.000Z', 'first'],
      ['2026-12-01T09:00:05.001Z', 'second'],
    ]);
  });

  it('a bot answering a web chat message writes the exchange to the table, read back with a Query', async () => {
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test-key', OPENAI_MODEL: 'fake-model', AI_PRICES: '{"fake-model":{"input":1,"output":2}}' }, { conversationLog: log });
    try {
      expect((await web.post('visitor-42', 'what does the log keep?')).status).toBe(202);
      await web.waitFor('visitor-42', (entries) => assistantReplies(entries).length === 1);
      // The exchange is written after the answer is posted: wait for it rather than race it.
      const fromWeb = await until(async () => {
        const { Items = [] } = await admin.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true, FilterExpression: 'platform = :web', ExpressionAttributeValues: { ':web': 'web' } }));
        return Items.length > 0 && Items;
      }, 'the exchange in the table');
      expect(fromWeb).toHaveLength(1);
      const { Items = [] } = await admin.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'conversation_id = :id', ExpressionAttributeValues: { ':id': fromWeb[0]?.conversation_id } }));
      expect(Items).toEqual([
        {
          conversation_id: expect.stringContaining('visitor-42'),
          timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          platform: 'web',
          user_id: expect.any(String),
          input: 'what does the log keep?',
          output: 'echo: what does the log keep?',
          model: 'fake-model',
          input_tokens: 12,
          output_tokens: 5,
          cost_usd: (12 * 1 + 5 * 2) / 1_000_000,
          latency_ms: expect.any(Number),
          // the job that answered: what the answer's feedback buttons name
          exchange_id: expect.stringMatching(/^web\./),
          // the webhook's X-Request-Id: what its log lines and dead letter carry
          request_id: expect.any(String),
        },
      ]);
      expect(Date.now() - Date.parse(Items[0]?.timestamp as string)).toBeLessThan(60_000);
    } finally {
      await web.close();
    }
  });
});

/** A log on a fresh table of its own. */
async function freshLog(options: { searchScanLimit?: number; searchMaxEntries?: number } = {}): Promise<DynamoConversationLog> {
  const tableName = `ai_conversations_${++tables}`;
  await createConversationLogTable(client, tableName);
  const fresh = new DynamoConversationLog({ tableName, ...options });
  opened.push(fresh);
  return fresh;
}

describeConversationLogContract('DynamoDB', () => freshLog(), { erase: true });

describe('DynamoConversationLog search', () => {
  it('scans at most `searchScanLimit` items, page by page, and searches the newest `searchMaxEntries` of them', async () => {
    const all = await freshLog();
    for (const entry of FIXTURE) await all.record(entry);
    const capped = new DynamoConversationLog({ tableName: all.tableName, searchScanLimit: 4 });
    const newest = new DynamoConversationLog({ tableName: all.tableName, searchMaxEntries: 2 });
    opened.push(capped, newest);
    const exchanges = async (searching: DynamoConversationLog) => (await searching.search({})).reduce((sum, s) => sum + s.exchanges, 0);
    expect(await exchanges(all)).toBe(6);
    expect(await exchanges(capped)).toBe(4);
    // seconds 5 and 6: slack-1's third exchange, web-1's second
    expect((await newest.search({})).map((s) => [s.conversationId, s.exchanges])).toEqual([
      ['web-1', 1],
      ['slack-1', 1],
    ]);
  });
});
