/**
 * parley/aws: Lambda handlers for API Gateway, Function URLs and SQS, and the job queue on an SQS
 * FIFO queue. The AWS SDK packages are optional peer dependencies, loaded when first used.
 */
export { lambdaHandler, type LambdaHttpHandler } from './lambda-http.js';
export { sqsWorker, type SqsWorkerHandler } from './sqs-worker.js';
export { SqsQueue, type SqsQueueOptions } from './sqs-queue.js';
export { sqsQueueFromConfig } from './sqs-config.js';
export { createSqsQueues, type SqsQueuesOptions } from './sqs-setup.js';
export type { ApiGatewayV1Event, ApiGatewayV2Event, HttpEvent, HttpResult, SqsEvent, SqsRecord, SqsBatchResponse } from './lambda-events.js';
