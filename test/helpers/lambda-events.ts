/**
 * Lambda HTTP events shaped as AWS documents them: API Gateway REST (payload 1.0), HTTP API
 * (payload 2.0) and a Function URL (2.0, on a lambda-url domain), for one signed request.
 */
import type { ApiGatewayV1Event, ApiGatewayV2Event } from '../../aws/index.js';

export interface SignedRequest {
  method: 'POST' | 'GET';
  path: string;
  query?: string;
  headers: Record<string, string>;
  body: string;
}

const sourceIp = '203.0.113.7';

export function restApiEvent(request: SignedRequest): ApiGatewayV1Event {
  const host = 'abc123.execute-api.us-east-1.amazonaws.com';
  const headers = { Host: host, 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': sourceIp, ...request.headers };
  const query = new URLSearchParams(request.query ?? '');
  return {
    version: '1.0',
    resource: '/{proxy+}',
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query.size ? Object.fromEntries(query) : null,
    multiValueQueryStringParameters: query.size ? Object.fromEntries([...query.keys()].map((k) => [k, query.getAll(k)])) : null,
    pathParameters: { proxy: request.path.slice(1) },
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: host,
      httpMethod: request.method,
      identity: { sourceIp, userAgent: request.headers['user-agent'] ?? '' },
      path: `/prod${request.path}`,
      protocol: 'HTTP/1.1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: Date.now(),
      resourcePath: '/{proxy+}',
      stage: 'prod',
    },
    body: request.body,
    isBase64Encoded: false,
  };
}

/** HTTP API payload 2.0; `base64` sends the body encoded, as API Gateway does for binary types. */
export function httpApiEvent(request: SignedRequest, options: { base64?: boolean; domainName?: string } = {}): ApiGatewayV2Event {
  const domainName = options.domainName ?? 'abc123.execute-api.us-east-1.amazonaws.com';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: request.query ?? '',
    headers: { host: domainName, 'x-forwarded-proto': 'https', 'x-forwarded-for': sourceIp, ...Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])) },
    requestContext: {
      accountId: '123456789012',
      apiId: domainName.split('.')[0],
      domainName,
      domainPrefix: domainName.split('.')[0],
      http: { method: request.method, path: request.path, protocol: 'HTTP/1.1', sourceIp, userAgent: request.headers['user-agent'] ?? '' },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: '$default',
      stage: '$default',
      time: '10/Mar/2020:05:16:23 +0000',
      timeEpoch: Date.now(),
    },
    body: options.base64 ? Buffer.from(request.body).toString('base64') : request.body,
    isBase64Encoded: Boolean(options.base64),
  };
}

/** A Lambda Function URL event: payload 2.0 on `<url-id>.lambda-url.<region>.on.aws`. */
export function functionUrlEvent(request: SignedRequest, options: { base64?: boolean } = {}): ApiGatewayV2Event {
  const event = httpApiEvent(request, { ...options, domainName: 'a1b2c3d4e5f6g7h8i9j0.lambda-url.us-east-1.on.aws' });
  return { ...event, requestContext: { ...event.requestContext, apiId: 'a1b2c3d4e5f6g7h8i9j0', authorizer: { iam: null } } };
}
