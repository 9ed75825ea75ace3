/**
 * @aws-sdk/client-sqs is an optional peer dependency, loaded when an SQS queue is first built
 * (see src/optional-dependency.ts): importing parley/aws costs nothing without it.
 */
import type * as Sqs from '@aws-sdk/client-sqs';
import { requireOptional } from '../src/index.js';
import { ATTEMPT_TIMEOUT_MS, requestHandler } from './deadlines.js';

export type SqsSdk = typeof Sqs;

/** The SQS client package; throws MissingDependencyError naming `npm install @aws-sdk/client-sqs` if missing. */
export function sqsSdk(neededBy = 'the SQS queue'): SqsSdk {
  return requireOptional<SqsSdk>('@aws-sdk/client-sqs', neededBy);
}

/**
 * A client configured the SDK's own way: region, credentials and AWS_ENDPOINT_URL_SQS from the
 * environment, with a deadline on each attempt (see deadlines.ts). Its retries cover one call's
 * network blip; what a failed job means is parley's.
 */
export function createSqsClient(config: Sqs.SQSClientConfig = {}, neededBy?: string): Sqs.SQSClient {
  const { SQSClient } = sqsSdk(neededBy);
  return new SQSClient({ requestHandler: requestHandler(ATTEMPT_TIMEOUT_MS), ...config });
}
