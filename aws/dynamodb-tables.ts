/**
 * Creating parley's DynamoDB tables: the store's (`<prefix>-store`, hash key `key`, TTL on
 * `expires_at`) and the conversation log's (the seed's `ai_conversations`: hash `conversation_id`,
 * range `timestamp`, TTL on `expires_at`, which a row carries only with CONVERSATION_LOG_TTL_SECONDS). On demand (PAY_PER_REQUEST). For emulators, tests and a first deploy
 * without infrastructure as code; examples/aws/serverless.yml declares the same.
 */
import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoDbSdk } from './dynamodb-sdk.js';

/**
 * What became of one resource: made now, found already there (setup is idempotent), or found and
 * changed (an SQS queue made elsewhere, given the redrive policy parley needs).
 */
export type SetupOutcome = 'created' | 'exists' | 'updated';

export interface TableOutcome {
  table: string;
  outcome: SetupOutcome;
  /**
   * `enabled`, or `unsupported` on an emulator without UpdateTimeToLive (dynalite): expiry is then
   * checked on read only; or the attribute a table made elsewhere has its TTL on, left as it is.
   */
  ttl?: 'enabled' | 'unsupported' | { on: string };
}

/** The store's table: one item per key, expired items deleted by DynamoDB's TTL on `expires_at`. */
export function createStoreTable(client: DynamoDBClient, tableName: string): Promise<TableOutcome> {
  return createTable(
    client,
    { TableName: tableName, KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }] },
    'expires_at',
  );
}

/**
 * The conversation log's table, as the seed's `ai_conversations`, with TTL on `expires_at`: rows
 * without it (CONVERSATION_LOG_TTL_SECONDS unset) are kept until you delete them.
 */
export function createConversationLogTable(client: DynamoDBClient, tableName: string): Promise<TableOutcome> {
  return createTable(client, {
    TableName: tableName,
    KeySchema: [
      { AttributeName: 'conversation_id', KeyType: 'HASH' },
      { AttributeName: 'timestamp', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'conversation_id', AttributeType: 'S' },
      { AttributeName: 'timestamp', AttributeType: 'S' },
    ],
  }, 'expires_at');
}

/** How long to wait for a new table to become ACTIVE (real DynamoDB takes seconds; emulators none). */
const ACTIVE_WITHIN_SECONDS = 120;

async function createTable(client: DynamoDBClient, definition: Omit<CreateTableCommandInput, 'BillingMode'>, ttlAttribute?: string): Promise<TableOutcome> {
  const sdk = dynamoDbSdk('parley aws setup').client;
  const table = definition.TableName as string;
  let outcome: SetupOutcome = 'created';
  const asked = Date.now();
  try {
    await client.send(new sdk.CreateTableCommand({ ...definition, BillingMode: 'PAY_PER_REQUEST' }));
  } catch (error) {
    if (!(error instanceof sdk.ResourceInUseException)) throw error;
    outcome = (await madeByAnEarlierAttempt(client, table, asked, error.$metadata.attempts)) ? 'created' : 'exists';
  }
  await sdk.waitUntilTableExists({ client, maxWaitTime: ACTIVE_WITHIN_SECONDS }, { TableName: table });
  if (!ttlAttribute) return { table, outcome };
  return { table, outcome, ttl: await enableTtl(client, table, ttlAttribute) };
}

/** How far DynamoDB's clock may be behind this machine's. */
const CLOCK_SKEW_MS = 5000;

/**
 * "In use" on the SDK's retry of a CreateTable whose answer came too late (a slow endpoint): the
 * first attempt made the table, moments ago by its creation time, so it is reported as created.
 */
async function madeByAnEarlierAttempt(client: DynamoDBClient, table: string, asked: number, attempts = 1): Promise<boolean> {
  if (attempts < 2) return false;
  const sdk = dynamoDbSdk('parley aws setup').client;
  const { Table } = await client.send(new sdk.DescribeTableCommand({ TableName: table }));
  return (Table?.CreationDateTime?.getTime() ?? 0) >= asked - CLOCK_SKEW_MS;
}

/**
 * Turn TTL on unless it already is (DynamoDB refuses to enable it twice); tolerate emulators without
 * the call. A table whose TTL is on another attribute (made elsewhere) keeps it: switching it would
 * change what the owner's rows expire by, and DynamoDB refuses it anyway.
 */
async function enableTtl(client: DynamoDBClient, table: string, attribute: string): Promise<'enabled' | 'unsupported' | { on: string }> {
  const sdk = dynamoDbSdk('parley aws setup').client;
  try {
    const { TimeToLiveDescription } = await client.send(new sdk.DescribeTimeToLiveCommand({ TableName: table }));
    const status = TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') return TimeToLiveDescription?.AttributeName === attribute ? 'enabled' : { on: String(TimeToLiveDescription?.AttributeName) };
    await client.send(new sdk.UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: attribute, Enabled: true } }));
    return 'enabled';
  } catch (error) {
    if (isUnknownOperation(error)) return 'unsupported';
    throw error;
  }
}

/** dynalite answers TTL calls with UnknownOperationException; other emulators with a 501. */
export function isUnknownOperation(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'UnknownOperationException' || e?.$metadata?.httpStatusCode === 501;
}
