/**
 * SQS_QUEUE_URL and DYNAMODB_TABLE_PREFIX name backends the core cannot build: their SDKs are
 * optional and live in parley/aws, which src/ never imports. A bot built from such a config
 * without them would quietly queue and store in memory; these messages say so, with the line to add.
 */
import type { Config } from './config.js';

/** The line that puts a bot's queue on SQS. */
export const SQS_WIRING = "createBot({ config, queue: sqsQueueFromConfig(config) }) (import { sqsQueueFromConfig } from 'parley/aws')";
/** The line that puts a bot's store and conversation log on DynamoDB. */
export const DYNAMODB_WIRING = "createBot({ config, ...dynamoDbFromConfig(config) }) (import { dynamoDbFromConfig } from 'parley/aws')";

/** Why a bot built from `config` is not on SQS although SQS_QUEUE_URL is set (undefined when it is not set). */
export function sqsUnwired(config: Pick<Config, 'sqsQueueUrl'>, queueKind: string): string | undefined {
  if (!config.sqsQueueUrl) return undefined;
  return `SQS_QUEUE_URL is set, but this bot was built without the SQS queue (createBot does not load the AWS SDK itself), so it queues ${queueKind}. Build it with ${SQS_WIRING}`;
}

/** One warning per AWS setting present but unused by the parts createBot was given (none when all are used). */
export function unusedAwsSettings(config: Pick<Config, 'sqsQueueUrl' | 'dynamodb'>, given: { queue: boolean; store: boolean }): string[] {
  const unused: string[] = [];
  if (!given.queue) {
    const sqs = sqsUnwired(config, 'elsewhere (memory, or Redis with REDIS_URL)');
    if (sqs) unused.push(sqs);
  }
  if (!given.store && config.dynamodb.tablePrefix) {
    unused.push(`DYNAMODB_TABLE_PREFIX is set, but this bot was built without the DynamoDB store (createBot does not load the AWS SDK itself), so it stores in memory (or Redis with REDIS_URL). Build it with ${DYNAMODB_WIRING}`);
  }
  return unused;
}
