/**
 * The Lambda event and result shapes parley reads and writes, as AWS documents them (only the
 * fields used here; the rest of each event is ignored).
 */

/** API Gateway REST API (payload format 1.0; also HTTP API with 1.0). */
export interface ApiGatewayV1Event {
  version?: '1.0';
  httpMethod: string;
  path: string;
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
  multiValueQueryStringParameters?: Record<string, string[] | undefined> | null;
  requestContext?: { identity?: { sourceIp?: string; [field: string]: unknown }; domainName?: string; path?: string; stage?: string; [field: string]: unknown };
  body?: string | null;
  isBase64Encoded?: boolean;
  [field: string]: unknown;
}

/** API Gateway HTTP API (payload format 2.0) and Lambda Function URLs. */
export interface ApiGatewayV2Event {
  version: '2.0';
  rawPath: string;
  rawQueryString?: string;
  cookies?: string[];
  headers?: Record<string, string | undefined>;
  requestContext: { domainName?: string; http: { method: string; sourceIp?: string; [field: string]: unknown }; stage?: string; [field: string]: unknown };
  body?: string;
  isBase64Encoded?: boolean;
  [field: string]: unknown;
}

export type HttpEvent = ApiGatewayV1Event | ApiGatewayV2Event;

/** What API Gateway (either format) and Function URLs accept back. */
export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  /** Format 1.0: repeated headers (Set-Cookie). */
  multiValueHeaders?: Record<string, string[]>;
  /** Format 2.0: each becomes a Set-Cookie header. */
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/** One record of an SQS-triggered invocation. */
export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: { MessageGroupId?: string; MessageDeduplicationId?: string; ApproximateReceiveCount?: string; [name: string]: string | undefined };
  messageAttributes?: Record<string, unknown>;
  md5OfBody?: string;
  eventSource?: string;
  eventSourceARN?: string;
  awsRegion?: string;
}

export interface SqsEvent {
  Records: SqsRecord[];
}

/** The partial batch response (ReportBatchItemFailures): the listed messages stay in the queue. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}
