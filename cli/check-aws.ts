import { dynamoDbFromConfig, storeTableName } from '../aws/index.js';
import { MissingDependencyError, type Config } from '../src/index.js';

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
