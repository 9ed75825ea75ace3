import { dynamoDbFromConfig, sqsQueueFromConfig, storeTableName } from '../aws/index.js';
import { receiveCountWarning } from '../aws/sqs-setup.js';
import { ConfigError, MissingDependencyError, type Config } from '../src/index.js';

export type CheckLine = { ok: boolean | 'warn'; what: string; detail: string };

/** `parley check` for DynamoDB: the configured store and log tables are reachable (none configured: no lines). */
export async function checkDynamoDb(config: Config): Promise<CheckLine[]> {
  const { tablePrefix, conversationLogTable } = config.dynamodb;
  if (!tablePrefix && !conversationLogTable) return [];
  let parts: ReturnType<typeof dynamoDbFromConfig>;
  try {
    parts = dynamoDbFromConfig(config);
  } catch (error) {
    if (error instanceof MissingDependencyError) return [{ ok: false, what: 'DynamoDB', detail: error.message }];
    throw error;
  }
  const lines: CheckLine[] = [];
  if (parts.store && tablePrefix) lines.push(await reach('DynamoDB store', storeTableName(tablePrefix), () => parts.store!.ping()));
  if (parts.conversationLog && conversationLogTable) lines.push(await reach('conversation log', conversationLogTable, () => parts.conversationLog!.list('parley:check', 1)));
  await parts.store?.close();
  await parts.conversationLog?.close();
  return lines;
}

async function reach(what: string, table: string, read: () => Promise<unknown>): Promise<CheckLine> {
  try {
    await read();
    return { ok: true, what, detail: `DynamoDB table ${table} reached` };
  } catch (error) {
    const e = error as Error;
    const fix = e.name === 'ResourceNotFoundException' ? ' (create it: parley aws setup)' : '';
    return { ok: false, what, detail: `DynamoDB table ${table}: ${e.name}: ${e.message}${fix}` };
  }
}

const SQS_TIMEOUT_MS = 5000;

/** `parley check` for SQS (SQS_QUEUE_URL): the queue answers, and has the redrive queue parley keeps its dead letters in. */
export async function checkSqs(config: Config): Promise<CheckLine[]> {
  if (!config.sqsQueueUrl) return [];
  const what = 'SQS queue';
  let queue: ReturnType<typeof sqsQueueFromConfig>;
  try {
    queue = sqsQueueFromConfig(config)!;
  } catch (error) {
    if (error instanceof MissingDependencyError) return [{ ok: false, what, detail: error.message }];
    throw error;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${SQS_TIMEOUT_MS / 1000} s`)), SQS_TIMEOUT_MS)));
  try {
    await Promise.race([queue.ping(), late]);
    const counts = await Promise.race([queue.counts(), late]);
    const reached = `${config.sqsQueueUrl} reached; ${counts.waiting} waiting, ${counts.dead} dead letters`;
    const warning = receiveCountWarning(await Promise.race([queue.redrivePolicy(), late]), config.sqsQueueUrl);
    return [warning ? { ok: 'warn', what, detail: `${reached}; but ${warning}` } : { ok: true, what, detail: reached }];
  } catch (error) {
    const e = error as Error;
    // Reached, but without a redrive policy: jobs run, dead letters have nowhere to go.
    if (e instanceof ConfigError) return [{ ok: 'warn', what, detail: e.message }];
    const fix = /NonExistentQueue|QueueDoesNotExist/.test(`${e.name} ${e.message}`) ? ' (create it: parley aws setup)' : '';
    return [{ ok: false, what, detail: `${config.sqsQueueUrl}: ${e.name}: ${e.message}${fix}` }];
  } finally {
    clearTimeout(timer);
    await queue.close(0).catch(() => undefined);
  }
}
