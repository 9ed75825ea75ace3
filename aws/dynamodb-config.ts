/**
 * The DynamoDB store and conversation log from parley's configuration: what the CLI and the Lambda
 * examples pass to createBot (`store`, `tally`, `conversationLog`) — the core never imports parley/aws.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../src/index.js';
import { DynamoConversationLog } from './dynamodb-log.js';
import { DynamoStore, storeTableName } from './dynamodb-store.js';
import { DynamoTally } from './dynamodb-tally.js';

export interface DynamoDbParts {
  /** On `<DYNAMODB_TABLE_PREFIX>-store` when the prefix is set. */
  store?: DynamoStore;
  /** The spend and traffic counters, on the store's table (unless REDIS_URL is set: then on Redis): budgets hold across every container. */
  tally?: DynamoTally;
  /** On CONVERSATION_LOG_TABLE, or `ai_conversations` when only DYNAMODB_TABLE_PREFIX is set. */
  conversationLog?: DynamoConversationLog;
}

/**
 * The configured DynamoDB parts (none when nothing is configured); throws MissingDependencyError without the AWS SDK.
 * `client`: one client for all of them (the caller closes it); default: each makes its own from the environment.
 */
export function dynamoDbFromConfig(config: Config, client?: DynamoDBClient): DynamoDbParts {
  const { tablePrefix, conversationLogTable, conversationLogTtlSeconds } = config.dynamodb;
  return {
    ...(tablePrefix ? { store: new DynamoStore({ tableName: storeTableName(tablePrefix), client }) } : {}),
    // With REDIS_URL too, the counters stay on Redis, where they were: budgets do not restart at $0.
    ...(tablePrefix && !config.redisUrl ? { tally: new DynamoTally({ tableName: storeTableName(tablePrefix), client }) } : {}),
    ...(conversationLogTable ? { conversationLog: new DynamoConversationLog({ tableName: conversationLogTable, client, ttlSeconds: conversationLogTtlSeconds }) } : {}),
  };
}
