/**
 * Two bot servers (two processes' worth: each its own DynamoDB client) sharing the store on the
 * moto server, Slack and the AI faked at the HTTP boundary: a Slack event redelivered to the other
 * server, or delivered to both at once, is claimed once in DynamoDB and answered once. And a claim
 * DynamoDB applied but answered with a 500 (the SDK retries it) is still the message's: answered once.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConversationLogTable, createStoreTable, DynamoConversationLog, DynamoStore, storeTableName } from '../../aws/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startLostAnswerProxy } from '../helpers/lost-answer.js';
import { useMoto } from '../helpers/moto.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const moto = useMoto();
const storeTable = storeTableName('dedupe');
const logTable = 'dedupe_conversations';
let admin: DynamoDBDocumentClient;
let slack: FakeSlack;
let ai: FakeOpenAi;
let first: SlackBot;
let second: SlackBot;

/** A bot server on the shared tables, with its own clients, as a separate process would have. */
const onDynamoDb = () => ({ bot: { store: new DynamoStore({ tableName: storeTable }), conversationLog: new DynamoConversationLog({ tableName: logTable }) } });

beforeAll(async () => {
  const client = new DynamoDBClient({});
  admin = DynamoDBDocumentClient.from(client);
  await createStoreTable(client, storeTable);
  await createConversationLogTable(client, logTable);
  slack = await startFakeSlack();
  ai = await startFakeOpenAi();
  first = await startSlackBot(slack, ai, {}, undefined, onDynamoDb());
  second = await startSlackBot(slack, ai, {}, undefined, onDynamoDb());
});
afterAll(async () => {
  await first?.close();
  await second?.close();
  await slack?.close();
  await ai?.close();
  admin?.destroy();
});
afterEach(() => slack.reset());

const posts = () => slack.callsTo('chat.postMessage');
const quiet = (ms = 500) => new Promise((resolve) => setTimeout(resolve, ms));

async function scan(table: string): Promise<Record<string, unknown>[]> {
  return (await admin.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];
}

describe('a redelivered Slack event, deduped through DynamoDB (moto)', () => {
  it('the redelivery reaches the other server after the answer: acknowledged, not answered again', async () => {
    const event = appMention({ text: 'answer me once' });
    expect((await postSlack(first.url, event)).status).toBe(200);
    await until(() => posts()[0], 'the reply');
    const aiCalls = ai.calls.length;
    expect((await postSlack(second.url, event, { retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
    await quiet();
    expect(posts().map((call) => call.args.text)).toEqual(['echo: answer me once']);
    expect(ai.calls.length).toBe(aiCalls);
    // the claim is an item of the shared table, with its TTL attribute
    const claims = (await scan(storeTable)).filter((item) => String(item.key).startsWith('parley:seen:') && String(item.key).includes(event.event_id));
    expect(claims).toHaveLength(1);
    expect(claims[0]?.expires_at).toBeGreaterThan(Date.now() / 1000);
  });

  it('the same event at both servers at once: one claim wins, one answer, one conversation-log row', async () => {
    const event = appMention({ text: 'racing deliveries' });
    const statuses = await Promise.all([postSlack(first.url, event), postSlack(second.url, event, { retryNum: 1 })].map(async (res) => (await res).status));
    expect(statuses).toEqual([200, 200]);
    await until(() => posts()[0], 'the reply');
    await quiet();
    expect(posts().map((call) => call.args.text)).toEqual(['echo: racing deliveries']);
    const rows = await until(async () => {
      const found = (await scan(logTable)).filter((row) => row.input === 'racing deliveries');
      return found.length > 0 ? found : undefined;
    }, 'the log row');
    expect(rows.map((row) => [row.platform, row.output])).toEqual([['slack', 'echo: racing deliveries']]);
  });

  it('a claim DynamoDB applied but answered with a 500 (retried by the SDK): the message is answered, once, and its redelivery is not', async () => {
    const event = appMention({ text: 'my claim came back 500' });
    const proxy = await startLostAnswerProxy(moto().url, {
      // the claim: an UpdateItem carrying the call's own id, not its take-back
      picks: (body, headers) => headers['x-amz-target'] === 'DynamoDB_20120810.UpdateItem' && body.includes('":claim"') && !body.includes('ADD #w') && body.includes(`parley:seen:`) && body.includes(event.event_id),
      fails: '500',
    });
    const client = new DynamoDBClient({ endpoint: proxy.url });
    const third = await startSlackBot(slack, ai, {}, undefined, { bot: { store: new DynamoStore({ tableName: storeTable, client }), conversationLog: new DynamoConversationLog({ tableName: logTable }) } });
    try {
      expect((await postSlack(third.url, event)).status).toBe(200);
      await until(() => posts()[0], 'the reply');
      expect(proxy.picked.length).toBeGreaterThanOrEqual(2); // the claim was sent again
      expect((await postSlack(first.url, event, { retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
      await quiet();
      expect(posts().map((call) => call.args.text)).toEqual(['echo: my claim came back 500']);
    } finally {
      await third.close();
      client.destroy();
      await proxy.close();
    }
  });
});
