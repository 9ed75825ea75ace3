/**
 * The worker function: triggered by the SQS FIFO queue (batch size up to 10, with
 * ReportBatchItemFailures), it answers each message — history, AI, reply — and reports the ones
 * that must come back, so one failure never re-runs the rest of its batch.
 */
import { sqsWorker } from '../../aws/index.js';
import { lambdaBot } from './bot.js';

export const handler = sqsWorker(lambdaBot());
