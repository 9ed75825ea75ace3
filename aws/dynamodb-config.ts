/**
 * The DynamoDB store and conversation log from parley's configuration: what the CLI and the Lambda
 * examples pass to createBot (`store`, `conversationLog`) — the core never imports parley/aws.
 */
import type { Config } from '../src/index.js';
import { DynamoConversationLog } from './dynamodb-log.js';
import { DynamoStore, storeTableName } from './dynamodb-store.js';

export interface DynamoDbParts {
  /** On `<DYNAMODB_TABLE_PREFIX>-store` when the prefix is set. */
  store?: DynamoStore;
  /** On CONVERSATION_LOG_TABLE, or `ai_conversations` when only DYNAMODB_TABLE_PREFIX is set. */
  conversationLog?: DynamoConversationLog;
}

/** The configured DynamoDB parts (none when nothing is configured); throws MissingDependencyError without the AWS SDK. */
export function dynamoDbFromConfig(config: Config): DynamoDbParts {
  const { tablePrefix, conversationLogTable } = config.dynamodb;
  return {
    ...(tablePrefix ? { store: new DynamoStore({ tableName: storeTableName(tablePrefix) }) } : {}),
    ...(conversationLogTable ? { conversationLog: new DynamoConversationLog({ tableName: conversationLogTable }) } : {}),
  };
}
