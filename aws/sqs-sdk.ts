/**
 * @aws-sdk/client-sqs is an optional peer dependency, loaded when an SQS queue is first built
 * (see src/optional-dependency.ts): importing parley/aws costs nothing without it.
 */
import { inspect } from 'node:util';
import type * as Sqs from '@aws-sdk/client-sqs';
import { hideSecrets, hideUrlCredentials } from '../src/adapter-kit.js';
import { requireOptional } from '../src/index.js';
import { ATTEMPT_TIMEOUT_MS, requestHandler } from './deadlines.js';
import { EXPLAIN_CALLER_ERRORS, explainCallerErrors } from './error-fix.js';

export type SqsSdk = typeof Sqs;

/** The SQS client package; throws MissingDependencyError naming `npm install @aws-sdk/client-sqs` if missing. */
export function sqsSdk(neededBy = 'the SQS queue'): SqsSdk {
  return requireOptional<SqsSdk>('@aws-sdk/client-sqs', neededBy);
}

/**
 * A client configured the SDK's own way: region, credentials and AWS_ENDPOINT_URL_SQS from the
 * environment, with a deadline on each attempt (see deadlines.ts). Its retries cover one call's
 * network blip; what a failed job means is parley's. A failure that is the caller's (region,
 * credentials) says what to set.
 */
export function createSqsClient(config: Sqs.SQSClientConfig = {}, neededBy?: string): Sqs.SQSClient {
  const { SQSClient } = sqsSdk(neededBy);
  const client = new SQSClient({ requestHandler: requestHandler(ATTEMPT_TIMEOUT_MS), logger: sdkLogger, ...config });
  client.middlewareStack.add(explainCallerErrors, EXPLAIN_CALLER_ERRORS);
  return client;
}

const quiet = () => undefined;

/**
 * The SDK's own warnings (e.g. "QueueUrl=<the whole URL> differs from SQSClient resolved endpoint")
 * go to the console as before, but with a URL's credentials and the configured secrets hidden.
 * Its other levels stay off, as with the SDK's default logger: a failed call's error line would
 * print the call's input, the queue URL whole; parley reports failures itself.
 */
const sdkLogger = {
  trace: quiet,
  debug: quiet,
  info: quiet,
  warn: (...args: unknown[]) => console.warn(hideUrlCredentials(hideSecrets(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg))).join(' ')))),
  error: quiet,
};
