/**
 * `parley aws setup`: create the AWS resources the configuration names, and only those, on the
 * endpoints the AWS SDK is configured for (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS for an
 * emulator). Running it again finds everything in place and changes nothing; a queue made
 * elsewhere without a redrive policy is given one ('updated').
 */
import { ConfigError, type Config } from '../src/index.js';
import { CLI_CLIENT } from './deadlines.js';
import { createDynamoDbClient } from './dynamodb-sdk.js';
import { storeTableName } from './dynamodb-store.js';
import { createConversationLogTable, createStoreTable, type SetupOutcome, type TableOutcome } from './dynamodb-tables.js';
import { createSqsClient, sqsSdk } from './sqs-sdk.js';
import { createSqsQueues, fifoQueueProblem, queueName } from './sqs-setup.js';

/** One resource and what setup did about it. */
export interface SetupStep {
  kind: 'table' | 'queue';
  name: string;
  /** What it is for, e.g. "store (DYNAMODB_TABLE_PREFIX)". */
  purpose: string;
  outcome: SetupOutcome;
  detail?: string;
  /** Something left as it is that will hurt parley, with its fix: printed as a warning, not a failure. */
  warning?: string;
}

/** What became of a table's TTL on `expires_at`; `otherwise`: what that means where it is not on. */
function ttlDetail(ttl: TableOutcome['ttl'], otherwise: string): string {
  if (ttl === 'enabled') return 'TTL on expires_at enabled';
  if (typeof ttl === 'object') return `TTL is on ${ttl.on}, left as it is (not expires_at): ${otherwise}`;
  return `TTL on expires_at not supported by this endpoint: ${otherwise}`;
}

/** True when the configuration names any AWS resource. */
export function awsConfigured(config: Config): boolean {
  return Boolean(config.dynamodb.tablePrefix || config.dynamodb.conversationLogTable || config.sqsQueueUrl);
}

/** Create the configured tables and queues (idempotent); `report` hears of each as it is done. */
export async function setupAws(config: Config, report: (step: SetupStep) => void = () => undefined): Promise<SetupStep[]> {
  const steps: SetupStep[] = [];
  const done = (step: SetupStep) => {
    steps.push(step);
    report(step);
  };
  const { tablePrefix, conversationLogTable } = config.dynamodb;
  if (tablePrefix || conversationLogTable) {
    // A one-off command: an endpoint that never answers fails it in seconds (CLI_CLIENT), not never.
    const client = createDynamoDbClient('parley aws setup', CLI_CLIENT);
    try {
      if (tablePrefix) {
        const made = await createStoreTable(client, storeTableName(tablePrefix));
        done({ kind: 'table', name: made.table, purpose: 'store (DYNAMODB_TABLE_PREFIX)', outcome: made.outcome, detail: ttlDetail(made.ttl, 'expiry is checked on read') });
      }
      if (conversationLogTable) {
        const made = await createConversationLogTable(client, conversationLogTable);
        done({ kind: 'table', name: made.table, purpose: 'conversation log', outcome: made.outcome, detail: ttlDetail(made.ttl, 'rows are kept') });
      }
    } finally {
      client.destroy();
    }
  }
  if (config.sqsQueueUrl) {
    const client = createSqsClient(CLI_CLIENT, 'parley aws setup');
    try {
      const notFifo = fifoQueueProblem(config.sqsQueueUrl);
      if (notFifo) throw new ConfigError(notFifo);
      const name = queueName(config.sqsQueueUrl);
      const existed = await queueExists(client, name);
      const made = await createSqsQueues(client, { name });
      const detail = [made.changed ?? made.differs, `dead letters: ${made.deadLetterQueueUrl}`].filter(Boolean).join('; ');
      done({ kind: 'queue', name: made.queueUrl, purpose: 'job queue (SQS_QUEUE_URL)', outcome: made.changed ? 'updated' : existed ? 'exists' : 'created', detail, ...(made.warning ? { warning: made.warning } : {}) });
    } finally {
      client.destroy();
    }
  }
  return steps;
}

async function queueExists(client: ReturnType<typeof createSqsClient>, name: string): Promise<boolean> {
  const sdk = sqsSdk('parley aws setup');
  try {
    await client.send(new sdk.GetQueueUrlCommand({ QueueName: name }));
    return true;
  } catch (error) {
    if (error instanceof sdk.QueueDoesNotExist) return false;
    throw error;
  }
}
