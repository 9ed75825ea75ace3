/**
 * parley/aws: Lambda handlers for API Gateway, Function URLs and SQS, the job queue on an SQS
 * FIFO queue, the store and the conversation log on DynamoDB, and `parley aws setup`. The AWS SDK
 * packages are optional peer dependencies, loaded when first used.
 */
export { lambdaHandler, type LambdaHttpHandler } from './lambda-http.js';
export { sqsWorker, type SqsWorkerHandler } from './sqs-worker.js';
export { SqsQueue, type SqsQueueOptions } from './sqs-queue.js';
export { sqsQueueFromConfig } from './sqs-config.js';
export { createSqsQueues, type SqsQueuesOptions } from './sqs-setup.js';
export type { ApiGatewayV1Event, ApiGatewayV2Event, HttpEvent, HttpResult, SqsEvent, SqsRecord, SqsBatchResponse } from './lambda-events.js';
export { DynamoStore, storeTableName, type DynamoStoreOptions } from './dynamodb-store.js';
export { DynamoTally, type DynamoTallyOptions } from './dynamodb-tally.js';
export { DynamoConversationLog, type DynamoConversationLogOptions, type ConversationItem } from './dynamodb-log.js';
export { dynamoDbFromConfig, type DynamoDbParts } from './dynamodb-config.js';
export { createStoreTable, createConversationLogTable, type TableOutcome, type SetupOutcome } from './dynamodb-tables.js';
export { setupAws, awsConfigured, type SetupStep } from './setup.js';
export { DYNAMODB_PACKAGES } from './dynamodb-sdk.js';
