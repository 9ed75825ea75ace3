import { dynamoDbFromConfig, sqsQueueFromConfig, storeTableName } from '../aws/index.js';
import { CLI_CLIENT } from '../aws/deadlines.js';
import { createDynamoDbClient, dynamoDbSdk } from '../aws/dynamodb-sdk.js';
import { isUnknownOperation } from '../aws/dynamodb-tables.js';
import { createSqsClient } from '../aws/sqs-sdk.js';
import { fifoQueueProblem, receiveCountWarning } from '../aws/sqs-setup.js';
import { ConfigError, MissingDependencyError, type Config } from '../src/index.js';
import { whyUnreached, withoutCredentials } from './unreached.js';
import { awsErrorFix } from '../aws/error-fix.js';

export { withoutCredentials };

export type CheckLine = { ok: boolean | 'warn'; what: string; detail: string };

/** `parley check` for DynamoDB: the configured store and log tables are reachable (none configured: no lines). */
export async function checkDynamoDb(config: Config): Promise<CheckLine[]> {
  const { tablePrefix, conversationLogTable, conversationLogTtlSeconds } = config.dynamodb;
  if (!tablePrefix && !conversationLogTable) return [];
  let client: ReturnType<typeof createDynamoDbClient>;
  let parts: ReturnType<typeof dynamoDbFromConfig>;
  try {
    // Deadlines on each call (CLI_CLIENT): an endpoint that never answers is a FAIL line in seconds.
    client = createDynamoDbClient('parley check', CLI_CLIENT);
    parts = dynamoDbFromConfig(config, client);
  } catch (error) {
    if (error instanceof MissingDependencyError) return [{ ok: false, what: 'DynamoDB', detail: error.message }];
    throw error;
  }
  try {
    return await Promise.all([
      ...(parts.store && tablePrefix ? [reach('DynamoDB store', storeTableName(tablePrefix), () => parts.store!.ping())] : []),
      ...(parts.conversationLog && conversationLogTable
        ? [reach('conversation log', conversationLogTable, () => parts.conversationLog!.list('parley:check', 1)).then((line) => (line.ok === true && conversationLogTtlSeconds ? withLogTtl(line, client, conversationLogTable) : line))]
        : []),
    ]);
  } finally {
    client.destroy();
  }
}

async function reach(what: string, table: string, read: () => Promise<unknown>): Promise<CheckLine> {
  try {
    await read();
    return { ok: true, what, detail: `DynamoDB table ${table} reached` };
  } catch (error) {
    const e = error as Error;
    const fix = e.name === 'ResourceNotFoundException' ? ' (create it: parley aws setup)' : '';
    return { ok: false, what, detail: `DynamoDB table ${table} at ${awsEndpoint('DYNAMODB')}: ${awsErrorText(e)}${fix}` };
  }
}

/**
 * With CONVERSATION_LOG_TTL_SECONDS each row carries `expires_at`, but only the table's TTL on that
 * attribute deletes it: a table made before (`parley aws setup` not run since) keeps every row, silently.
 */
async function withLogTtl(line: CheckLine, client: ReturnType<typeof createDynamoDbClient>, table: string): Promise<CheckLine> {
  const sdk = dynamoDbSdk('parley check').client;
  const kept = 'rows get expires_at (CONVERSATION_LOG_TTL_SECONDS) but are never deleted';
  try {
    const { TimeToLiveDescription: ttl } = await client.send(new sdk.DescribeTimeToLiveCommand({ TableName: table }));
    const status = ttl?.TimeToLiveStatus ?? 'DISABLED';
    const on = status === 'ENABLED' || status === 'ENABLING';
    if (on && ttl?.AttributeName === 'expires_at') return line;
    // Setup leaves a TTL on another attribute as it is (DynamoDB keeps one per table).
    const problem = on ? `its TTL is on ${ttl?.AttributeName}, not expires_at: ${kept}. Fix: turn that TTL off, then run parley aws setup` : `its TTL is ${status.toLowerCase()}: ${kept}. Fix: parley aws setup (turns TTL on expires_at)`;
    return { ok: 'warn', what: line.what, detail: `${line.detail}; but ${problem}` };
  } catch (error) {
    if (isUnknownOperation(error)) return line; // an emulator without TTL (dynalite): setup says so
    const e = error as Error;
    return { ok: 'warn', what: line.what, detail: `${line.detail}; but its TTL could not be read (${awsErrorText(e)}): unless it is on expires_at, ${kept}` };
  }
}

/** `parley check` for SQS (SQS_QUEUE_URL): the queue answers, and has the redrive queue parley keeps its dead letters in. */
export async function checkSqs(config: Config): Promise<CheckLine[]> {
  if (!config.sqsQueueUrl) return [];
  const what = 'SQS queue';
  const shown = withoutCredentials(config.sqsQueueUrl);
  // What `parley aws setup` refuses, check fails: not a FIFO queue.
  const notFifo = fifoQueueProblem(config.sqsQueueUrl);
  if (notFifo) return [{ ok: false, what, detail: `${shown}: ${withoutCredentials(notFifo)}` }];
  let client: ReturnType<typeof createSqsClient>;
  let queue: ReturnType<typeof sqsQueueFromConfig>;
  try {
    client = createSqsClient(CLI_CLIENT, 'parley check');
    queue = sqsQueueFromConfig(config, { client })!;
  } catch (error) {
    if (error instanceof MissingDependencyError) return [{ ok: false, what, detail: error.message }];
    throw error;
  }
  try {
    await queue.ping();
    const counts = await queue.counts();
    const reached = `${shown} reached; ${counts.waiting} waiting, ${counts.dead} dead letters`;
    const warning = receiveCountWarning(await queue.redrivePolicy(), shown);
    return [warning ? { ok: 'warn', what, detail: `${reached}; but ${warning}` } : { ok: true, what, detail: reached }];
  } catch (error) {
    const e = error as Error;
    // Reached, but without a redrive policy: jobs run, dead letters have nowhere to go.
    if (e instanceof ConfigError) return [{ ok: 'warn', what, detail: withoutCredentials(e.message) }];
    const fix = /NonExistentQueue|QueueDoesNotExist/.test(`${e.name} ${e.message}`) ? ' (create it: parley aws setup)' : '';
    return [{ ok: false, what, detail: withoutCredentials(`${shown}: ${awsErrorText(e)}${fix}`) }];
  } finally {
    await queue.close(0).catch(() => undefined);
    client.destroy();
  }
}

/**
 * An AWS SDK error as a line names it. An answer the SDK cannot read as AWS's (another program on
 * the endpoint's port, a proxy's error page) is only `Unknown: UnknownError`, or a JSON or XML parser's
 * complaint over two lines: its HTTP status says more.
 */
export function awsErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status && (error.name === 'Unknown' || /Deserialization error/.test(error.message))) return `HTTP ${status} that is not an AWS answer (another program on that port, or a proxy's page)`;
  // Every address of a name refused (localhost: ::1 and 127.0.0.1): an AggregateError with no message of its own.
  if (!error.message) return whyUnreached(error);
  return `${error.name}: ${error.message}${awsErrorFix(error)}`;
}

/** Where the SDK sends this service's calls: its endpoint variable, or AWS in the configured region. */
export function awsEndpoint(service: 'DYNAMODB' | 'SQS'): string {
  return process.env[`AWS_ENDPOINT_URL_${service}`] ?? process.env.AWS_ENDPOINT_URL ?? `AWS (region ${process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'from your AWS config'})`;
}
