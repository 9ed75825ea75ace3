/**
 * @aws-sdk/client-dynamodb and @aws-sdk/lib-dynamodb are optional peer dependencies, loaded when a
 * DynamoDB store or log is first built (see src/optional-dependency.ts): importing parley/aws
 * costs nothing without them.
 */
import type * as DynamoDb from '@aws-sdk/client-dynamodb';
import type * as DynamoDbLib from '@aws-sdk/lib-dynamodb';
import { requireOptional } from '../src/index.js';
import { ATTEMPT_TIMEOUT_MS, requestHandler } from './deadlines.js';
import { EXPLAIN_CALLER_ERRORS, explainCallerErrors } from './error-fix.js';

/** What `npm install` needs for DynamoDB: the client and its document (plain JavaScript values) layer. */
export const DYNAMODB_PACKAGES = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'] as const;

export interface DynamoDbSdk {
  client: typeof DynamoDb;
  lib: typeof DynamoDbLib;
}

/** Both DynamoDB packages; throws MissingDependencyError naming the install command if one is missing. */
export function dynamoDbSdk(neededBy: string): DynamoDbSdk {
  return {
    client: requireOptional<typeof DynamoDb>('@aws-sdk/client-dynamodb', neededBy, DYNAMODB_PACKAGES),
    lib: requireOptional<typeof DynamoDbLib>('@aws-sdk/lib-dynamodb', neededBy, DYNAMODB_PACKAGES),
  };
}

/** A DynamoDB connection: the SDK, the document client parley calls, and how to let it go. */
export interface DynamoDbAccess {
  sdk: DynamoDbSdk;
  documents: DynamoDbLib.DynamoDBDocumentClient;
  /** Destroys the client when parley made it; a client passed in is the caller's to close. */
  close(): void;
}

/**
 * A client configured the SDK's own way: region, credentials and AWS_ENDPOINT_URL_DYNAMODB from
 * the environment, with a deadline on each attempt (see deadlines.ts); a failure that is the
 * caller's (region, credentials) says what to set.
 */
export function createDynamoDbClient(neededBy: string, config: DynamoDb.DynamoDBClientConfig = {}): DynamoDb.DynamoDBClient {
  const client = new (dynamoDbSdk(neededBy).client.DynamoDBClient)({ requestHandler: requestHandler(ATTEMPT_TIMEOUT_MS), ...config });
  client.middlewareStack.add(explainCallerErrors, EXPLAIN_CALLER_ERRORS);
  return client;
}

/** The given client, or one from the environment (createDynamoDbClient). */
export function dynamoDbAccess(neededBy: string, client?: DynamoDb.DynamoDBClient): DynamoDbAccess {
  const sdk = dynamoDbSdk(neededBy);
  const base = client ?? createDynamoDbClient(neededBy);
  // removeUndefinedValues: optional fields (a log entry's tenant) are simply left out of the item
  const documents = sdk.lib.DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
  return { sdk, documents, close: () => (client ? undefined : base.destroy()) };
}

/** A conditional write that found the condition false (the expected "no" of a claim or a lock). */
export function isConditionFailed(error: unknown): boolean {
  return (error as { name?: unknown })?.name === 'ConditionalCheckFailedException';
}
