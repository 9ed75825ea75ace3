/**
 * `parley aws setup` as a user runs it (the real CLI in its own process) against the moto server:
 * it creates exactly the tables and queues the configuration names — keys, on-demand billing, TTL,
 * the FIFO queue's redrive policy — and a second run finds them and changes nothing. Then
 * `parley serve` keeps its store and conversation log in the tables it made.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ListQueuesCommand, ReceiveMessageCommand, SQSClient, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi } from '../fakes/openai-server.js';
import { DynamoStore, sqsQueueFromConfig, storeTableName } from '../../aws/index.js';
import { loadConfig } from '../../src/index.js';
import { startLostAnswerProxy } from '../helpers/lost-answer.js';
import { useMoto } from '../helpers/moto.js';
import { startParley } from '../helpers/processes.js';
import { deleteKeys } from '../helpers/redis-keys.js';
import { until } from '../helpers/until.js';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const moto = useMoto();
let dynamo: DynamoDBClient;
let sqs: SQSClient;
beforeAll(() => {
  dynamo = new DynamoDBClient({});
  sqs = new SQSClient({});
});
afterAll(() => {
  dynamo?.destroy();
  sqs?.destroy();
});

/** Run `parley aws setup` with only the moto server's variables and `env`; its exit code and output. */
function awsSetup(env: Record<string, string>): Promise<{ code: number; out: string }> {
  return parley(['aws', 'setup'], env);
}

async function parley(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, parleyArgs(...args), {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...moto().env, ...env },
      timeout: 60_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

async function tables(): Promise<string[]> {
  return (await dynamo.send(new ListTablesCommand({}))).TableNames ?? [];
}

async function queues(): Promise<string[]> {
  return ((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? []).map((url) => url.split('/').pop() ?? url);
}

/** What a run added: the tables and queues that were not there before it. */
async function added(run: () => Promise<unknown>): Promise<{ tables: string[]; queues: string[] }> {
  const [tablesBefore, queuesBefore] = [await tables(), await queues()];
  await run();
  return { tables: (await tables()).filter((t) => !tablesBefore.includes(t)).sort(), queues: (await queues()).filter((q) => !queuesBefore.includes(q)).sort() };
}

describe('parley aws setup (moto)', () => {
  it('with DYNAMODB_TABLE_PREFIX: the store table and the seed\'s log table, on demand, both with TTL on expires_at; again: nothing new', async () => {
    let first = { code: -1, out: '' };
    expect(await added(async () => (first = await awsSetup({ DYNAMODB_TABLE_PREFIX: 'shop' })))).toEqual({ tables: ['ai_conversations', 'shop-store'], queues: [] });
    expect(first.code).toBe(0);
    // The first line names where it creates: DynamoDB only, SQS_QUEUE_URL being unset.
    expect(first.out).toMatch(new RegExp(`^parley aws setup: DynamoDB at ${moto().url}$`, 'm'));
    expect(first.out).toContain('created  table shop-store: store (DYNAMODB_TABLE_PREFIX); TTL on expires_at enabled');
    expect(first.out).toContain('created  table ai_conversations: conversation log; TTL on expires_at enabled');

    const store = (await dynamo.send(new DescribeTableCommand({ TableName: 'shop-store' }))).Table;
    expect(store?.KeySchema).toEqual([{ AttributeName: 'key', KeyType: 'HASH' }]);
    expect(store?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const ttl = (await dynamo.send(new DescribeTimeToLiveCommand({ TableName: 'shop-store' }))).TimeToLiveDescription;
    expect(ttl).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expires_at' });
    const log = (await dynamo.send(new DescribeTableCommand({ TableName: 'ai_conversations' }))).Table;
    expect(log?.KeySchema).toEqual([
      { AttributeName: 'conversation_id', KeyType: 'HASH' },
      { AttributeName: 'timestamp', KeyType: 'RANGE' },
    ]);
    expect(log?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    // Rows carry expires_at only with CONVERSATION_LOG_TTL_SECONDS; with TTL on, DynamoDB deletes them by it.
    const logTtl = (await dynamo.send(new DescribeTimeToLiveCommand({ TableName: 'ai_conversations' }))).TimeToLiveDescription;
    expect(logTtl).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expires_at' });

    let second = { code: -1, out: '' };
    expect(await added(async () => (second = await awsSetup({ DYNAMODB_TABLE_PREFIX: 'shop' })))).toEqual({ tables: [], queues: [] });
    expect(second.code).toBe(0);
    expect(second.out).toContain('exists   table shop-store');
    expect(second.out).toContain('exists   table ai_conversations');
    expect(second.out).not.toMatch(/^created/m);
  });

  it('a CreateTable that DynamoDB applied but answered too late (the SDK sent it again and heard "in use"): reported created, not "exists"', async () => {
    // The CLI gives each attempt 1.5 s; this answer is held back 2.5 s.
    const proxy = await startLostAnswerProxy(moto().url, { picks: (_body, headers) => headers['x-amz-target'] === 'DynamoDB_20120810.CreateTable', holdMs: 2500 });
    try {
      const run = await awsSetup({ CONVERSATION_LOG_TABLE: 'late_answer_log', AWS_ENDPOINT_URL_DYNAMODB: proxy.url });
      expect(proxy.picked.length, 'the SDK sent the CreateTable again').toBe(2);
      expect(run.code).toBe(0);
      expect(run.out).toContain('created  table late_answer_log');
      expect(await tables()).toContain('late_answer_log');
    } finally {
      await proxy.close();
    }
  });

  it('parley check reaches the tables setup made, and names the fix for a missing one', async () => {
    expect((await awsSetup({ DYNAMODB_TABLE_PREFIX: 'checked' })).code).toBe(0);
    const checked = await parley(['check'], { DYNAMODB_TABLE_PREFIX: 'checked' });
    expect(checked.out).toMatch(/^ok {4}DynamoDB store: DynamoDB table checked-store reached$/m);
    expect(checked.out).toMatch(/^ok {4}conversation log: DynamoDB table ai_conversations reached$/m);
    const missing = await parley(['check'], { DYNAMODB_TABLE_PREFIX: 'nowhere', CONVERSATION_LOG_TABLE: 'ai_conversations' });
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/^FAIL {2}DynamoDB store: DynamoDB table nowhere-store at http:\/\/127\.0\.0\.1:\d+: ResourceNotFoundException: .*\(create it: parley aws setup\)$/m);
  }, 60_000);

  it('parley check warns when CONVERSATION_LOG_TTL_SECONDS is set but the log table has no TTL on expires_at (made before setup), naming the fix', async () => {
    // A log table made by hand, before `parley aws setup` turned TTL on: rows would never be deleted.
    await dynamo.send(new CreateTableCommand({
      TableName: 'log_made_before',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'conversation_id', KeyType: 'HASH' }, { AttributeName: 'timestamp', KeyType: 'RANGE' }],
      AttributeDefinitions: [{ AttributeName: 'conversation_id', AttributeType: 'S' }, { AttributeName: 'timestamp', AttributeType: 'S' }],
    }));
    const env = { CONVERSATION_LOG_TABLE: 'log_made_before', CONVERSATION_LOG_TTL_SECONDS: '86400' };
    const before = await parley(['check'], env);
    expect(before.out).toMatch(/^warn {2}conversation log: DynamoDB table log_made_before reached; but its TTL is disabled: rows get expires_at \(CONVERSATION_LOG_TTL_SECONDS\) but are never deleted\. Fix: parley aws setup/m);
    // Without the variable no row carries expires_at: nothing to warn about.
    expect((await parley(['check'], { CONVERSATION_LOG_TABLE: 'log_made_before' })).out).toMatch(/^ok {4}conversation log: DynamoDB table log_made_before reached$/m);
    expect((await awsSetup(env)).code).toBe(0);
    expect((await parley(['check'], env)).out).toMatch(/^ok {4}conversation log: DynamoDB table log_made_before reached$/m);
  }, 60_000);

  it('parley check with SQS_QUEUE_URL: names SQS as the queue and reaches it, or fails naming SQS and the fix', async () => {
    const url = `${moto().url}/123456789012/checked-queue.fifo`;
    const missing = await parley(['check'], { SQS_QUEUE_URL: url });
    expect(missing.code).toBe(1);
    expect(missing.out).not.toContain('the queue in memory');
    expect(missing.out).toMatch(/^FAIL {2}SQS queue: \S+\/checked-queue\.fifo: .*\(create it: parley aws setup\)$/m);
    const setup = await awsSetup({ SQS_QUEUE_URL: url });
    expect(setup.code).toBe(0);
    expect(setup.out).toMatch(new RegExp(`^parley aws setup: SQS at ${moto().url}$`, 'm'));
    const reached = await parley(['check'], { SQS_QUEUE_URL: url });
    // SQS without a shared store: each process keeps its own claims and markers (a warning, naming the fix)
    expect(reached.out).toMatch(/^warn {2}store and queue: the queue on SQS, the store in memory: .*Set DYNAMODB_TABLE_PREFIX \(or REDIS_URL\) to share them$/m);
    expect(reached.out).toMatch(/^ok {4}SQS queue: \S+\/checked-queue\.fifo reached; 0 waiting, 0 dead letters$/m);
  }, 60_000);

  it('with a FIFO queue made elsewhere whose redrive maxReceiveCount is 5: setup and check warn (not fail), naming the fix', async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'low-receives-dlq.fifo', Attributes: { FifoQueue: 'true' } }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const made = await sqs.send(new CreateQueueCommand({ QueueName: 'low-receives.fifo', Attributes: { FifoQueue: 'true', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 5 }) } }));
    const env = { SQS_QUEUE_URL: made.QueueUrl! };
    const setup = await awsSetup(env);
    expect(setup.code, setup.out).toBe(0);
    expect(setup.out).toMatch(/^warn {5}queue \S+\/low-receives\.fifo: its redrive maxReceiveCount is 5, below the 1000 parley needs.*Fix: set maxReceiveCount to 1000/m);
    const checked = await parley(['check'], env);
    expect(checked.code, checked.out).toBe(0);
    expect(checked.out).toMatch(/^warn {2}SQS queue: \S+\/low-receives\.fifo reached; .*maxReceiveCount is 5, below the 1000 parley needs.*Fix: set maxReceiveCount to 1000/m);
  }, 60_000);

  it('with a FIFO queue made elsewhere whose redrive policy names its own dead-letter queue (low.fifo → lowdlq.fifo): keeps it, creates nothing, names the queue parley dlq reads', async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'lowdlq.fifo', Attributes: { FifoQueue: 'true' } }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const policy = JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 1000 });
    const made = await sqs.send(new CreateQueueCommand({ QueueName: 'low.fifo', Attributes: { FifoQueue: 'true', RedrivePolicy: policy } }));
    const env = { SQS_QUEUE_URL: made.QueueUrl! };
    for (const run of [1, 2]) {
      let setup = { code: -1, out: '' };
      expect(await added(async () => (setup = await awsSetup(env))), `run ${run}`).toEqual({ tables: [], queues: [] });
      expect(setup.code, setup.out).toBe(0);
      expect(setup.out).toMatch(/^exists {3}queue \S+\/low\.fifo: job queue \(SQS_QUEUE_URL\); its redrive policy is left as it is: parley reads its dead letters in lowdlq\.fifo; dead letters: \S+\/lowdlq\.fifo$/m);
      expect(setup.out).not.toContain('low-dlq');
    }
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: made.QueueUrl, AttributeNames: ['RedrivePolicy'] }));
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toEqual(JSON.parse(policy));

    // The queue setup names is the one parley dlq reads.
    await sqsQueueFromConfig(loadConfig(env))!.addDeadLetter({ id: 'low-letter', group: 'none', data: { type: 'message' } as never, error: 'boom', reason: 'failed', attempts: 3, failedAt: new Date().toISOString() });
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 0, VisibilityTimeout: 0 }));
    expect(Messages).toHaveLength(1);
    const listed = await parley(['dlq', 'list'], env);
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toMatch(/^low-letter\t/m);

    // Its dead-letter queue deleted since: setup names it and the fix (exit 1), and creates nothing in its place.
    await sqs.send(new DeleteQueueCommand({ QueueUrl: dlq.QueueUrl }));
    let gone = { code: -1, out: '' };
    expect(await added(async () => (gone = await awsSetup(env)))).toEqual({ tables: [], queues: [] });
    expect(gone.code, gone.out).toBe(1);
    expect(gone.out).toContain('the redrive policy of low.fifo sends its dead letters to lowdlq.fifo, which does not exist');
  }, 60_000);

  it('with CONVERSATION_LOG_TABLE only: that table and nothing else', async () => {
    const run = added(() => awsSetup({ CONVERSATION_LOG_TABLE: 'support_log' }));
    expect(await run).toEqual({ tables: ['support_log'], queues: [] });
  });

  it('with SQS_QUEUE_URL only: the FIFO queue and its FIFO dead-letter queue with a high maxReceiveCount; again: the same two', async () => {
    const env = { SQS_QUEUE_URL: `${moto().url}/123456789012/orders.fifo` };
    let first = { code: -1, out: '' };
    expect(await added(async () => (first = await awsSetup(env)))).toEqual({ tables: [], queues: ['orders-dlq.fifo', 'orders.fifo'] });
    expect(first.out).toMatch(/created {2}queue \S+\/orders\.fifo: job queue \(SQS_QUEUE_URL\); dead letters: \S+\/orders-dlq\.fifo/);
    const queueUrl = (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders.fifo' }))).QueueUrls?.[0];
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['FifoQueue', 'RedrivePolicy'] }));
    expect(Attributes?.FifoQueue).toBe('true');
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toMatchObject({ deadLetterTargetArn: expect.stringMatching(/:orders-dlq\.fifo$/), maxReceiveCount: 1000 });

    let second = { code: -1, out: '' };
    expect(await added(async () => (second = await awsSetup(env)))).toEqual({ tables: [], queues: [] });
    expect([second.code, second.out.includes('exists   queue')]).toEqual([0, true]);
  });

  it('with a FIFO queue made elsewhere without a redrive policy: gives it one (and its dead-letter queue), says so, exit 0; then parley dlq list works', async () => {
    const made = await sqs.send(new CreateQueueCommand({ QueueName: 'made-elsewhere.fifo', Attributes: { FifoQueue: 'true', VisibilityTimeout: '120' } }));
    const env = { SQS_QUEUE_URL: made.QueueUrl! };
    let first = { code: -1, out: '' };
    expect(await added(async () => (first = await awsSetup(env)))).toEqual({ tables: [], queues: ['made-elsewhere-dlq.fifo'] });
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/^updated {2}queue \S+\/made-elsewhere\.fifo: job queue \(SQS_QUEUE_URL\); redrive policy added.*dead letters: \S+\/made-elsewhere-dlq\.fifo/m);
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: made.QueueUrl, AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'] }));
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toMatchObject({ deadLetterTargetArn: expect.stringMatching(/:made-elsewhere-dlq\.fifo$/), maxReceiveCount: 1000 });
    expect(Attributes?.VisibilityTimeout).toBe('120'); // its own settings are left as they are

    const listed = await parley(['dlq', 'list'], env);
    expect(listed.code, listed.out).toBe(0);
    const again = await awsSetup(env);
    expect([again.code, again.out.includes('exists   queue')]).toEqual([0, true]);
  }, 60_000);

  it('parley dlq show: a job SQS redrove itself has the attempts the workers counted (DynamoDB), the same on every look', async () => {
    const env = { SQS_QUEUE_URL: `${moto().url}/123456789012/redrove.fifo`, DYNAMODB_TABLE_PREFIX: 'redrove' };
    expect((await awsSetup(env)).code).toBe(0);
    const queueUrl = env.SQS_QUEUE_URL;
    const policy = JSON.parse((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }))).Attributes!.RedrivePolicy!);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { RedrivePolicy: JSON.stringify({ ...policy, maxReceiveCount: 1 }) } }));
    await sqsQueueFromConfig(loadConfig(env))!.add({ id: 'whatsapp.SMredrove', group: 'whatsapp.g', data: { type: 'message' } as never });
    // A worker counted two attempts, and died each time before it could record a verdict.
    const store = new DynamoStore({ tableName: storeTableName('redrove') });
    await store.set('parley:sqs-attempts:whatsapp.SMredrove', '2');
    await store.close();
    const receive = () => sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    const [message] = (await receive()).Messages ?? [];
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message!.ReceiptHandle!, VisibilityTimeout: 0 }));
    // Received once more than maxReceiveCount: SQS moves it to the dead-letter queue.
    expect((await receive()).Messages ?? []).toEqual([]);

    const looks = [await parley(['dlq', 'show', 'whatsapp.SMredrove'], env), await parley(['dlq', 'show', 'whatsapp.SMredrove'], env)];
    for (const look of looks) {
      expect(look.code, look.out).toBe(0);
      expect(JSON.parse(/^\{[\s\S]*?^\}/m.exec(look.out)![0])).toMatchObject({ id: 'whatsapp.SMredrove', reason: 'redriven', attempts: 2 });
    }
  }, 60_000);

  it('parley dlq: a dead letter cut to fit SQS is listed as cut, and replaying it is refused (exit 1), naming show and drop', async () => {
    const env = { SQS_QUEUE_URL: `${moto().url}/123456789012/cut-letter.fifo`, DYNAMODB_TABLE_PREFIX: 'cut-letter' };
    expect((await awsSetup(env)).code).toBe(0);
    const queue = sqsQueueFromConfig(loadConfig(env))!;
    await queue.addDeadLetter({ id: 'poison', group: 'none', data: 'x'.repeat(1_048_500) as never, error: 'the message is not a parley job', reason: 'invalid_job', attempts: 0, failedAt: new Date().toISOString() });
    const listed = await parley(['dlq', 'list'], env);
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toMatch(/^poison\t.*\tinvalid_job\t.*\twas cut to fit the queue/m);
    const replayed = await parley(['dlq', 'replay', 'poison'], env);
    expect(replayed.code, replayed.out).toBe(1);
    expect(replayed.out).toContain('not replayed: poison was cut to fit the queue (only the start of its message is kept); read it with parley dlq show poison, drop it with parley dlq drop poison');
  }, 60_000);

  it('with an SQS_QUEUE_URL that is not a FIFO queue: a configuration error (exit 1) naming the fix, and nothing created', async () => {
    let result = { code: -1, out: '' };
    expect(await added(async () => (result = await awsSetup({ SQS_QUEUE_URL: `${moto().url}/123456789012/jobs` })))).toEqual({ tables: [], queues: [] });
    expect(result.code).toBe(1);
    expect(result.out).toContain('not a FIFO queue');
    expect(result.out).toContain('jobs.fifo');
  });

  it('with nothing configured: exit 2, says what to set, creates nothing', async () => {
    let result = { code: -1, out: '' };
    expect(await added(async () => (result = await awsSetup({})))).toEqual({ tables: [], queues: [] });
    expect(result.code).toBe(2);
    expect(result.out).toContain('nothing to create. Set DYNAMODB_TABLE_PREFIX');
  });

  it('then parley serve with DYNAMODB_TABLE_PREFIX keeps the dedupe claim and history in <prefix>-store and logs the exchange to ai_conversations', async () => {
    expect((await awsSetup({ DYNAMODB_TABLE_PREFIX: 'served' })).code).toBe(0);
    const ai = await startFakeOpenAi();
    const server = await startParley(['serve'], { ...moto().env, DYNAMODB_TABLE_PREFIX: 'served', WEB_CHAT: 'true', OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test-key' });
    try {
      const posted = await fetch(`${server.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'served-1', text: 'where do you keep this?' }) });
      expect(posted.status).toBe(202);
      const documents = DynamoDBDocumentClient.from(dynamo);
      const [row] = await until(async () => {
        const { Items = [] } = await documents.send(new ScanCommand({ TableName: 'ai_conversations', FilterExpression: 'platform = :web', ExpressionAttributeValues: { ':web': 'web' } }));
        return Items.length > 0 ? Items : undefined;
      }, 'the log row', 15_000).catch((error: Error) => {
        throw new Error(`${error.message}; the server said:\n${server.logs()}`);
      });
      expect(row).toMatchObject({ input: 'where do you keep this?', output: 'echo: where do you keep this?', platform: 'web' });
      const { Items: logged = [] } = await documents.send(new QueryCommand({ TableName: 'ai_conversations', KeyConditionExpression: 'conversation_id = :id', ExpressionAttributeValues: { ':id': row?.conversation_id } }));
      expect(logged).toHaveLength(1);
      const keys = ((await documents.send(new ScanCommand({ TableName: 'served-store' }))).Items ?? []).map((item) => String(item.key));
      expect(keys.some((key) => key.startsWith('parley:seen:web'))).toBe(true);
      expect(keys.some((key) => key.includes('history') && key.includes('served-1'))).toBe(true);
    } finally {
      await server.stop();
      await ai.close();
    }
  }, 60_000);

  it('with REDIS_URL as well: the history in <prefix>-store, and a web chat message\'s claim there too (taken step by step, so a refused one gives it back), not in Redis', async () => {
    expect((await awsSetup({ DYNAMODB_TABLE_PREFIX: 'both' })).code).toBe(0);
    const prefix = `aws-both-${Date.now().toString(36)}`;
    const redis = new Redis('redis://127.0.0.1:6379');
    const ai = await startFakeOpenAi();
    const server = await startParley(['serve'], { ...moto().env, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix, DYNAMODB_TABLE_PREFIX: 'both', WEB_CHAT: 'true', OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test-key' });
    try {
      const posted = await fetch(`${server.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'both-1', text: 'which one holds the claim?' }) });
      expect(posted.status).toBe(202);
      const documents = DynamoDBDocumentClient.from(dynamo);
      const storeKeys = async () => ((await documents.send(new ScanCommand({ TableName: 'both-store' }))).Items ?? []).map((item) => String(item.key));
      await until(async () => (await storeKeys()).some((key) => key.includes('history') && key.includes('both-1')), 'the history in both-store', 15_000);
      expect((await storeKeys()).filter((key) => key.includes(':seen:'))).not.toEqual([]);
      expect((await redis.keys(`${prefix}*`)).filter((key) => key.includes('seen:'))).toEqual([]);
    } finally {
      await server.stop();
      await ai.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  }, 60_000);
});
