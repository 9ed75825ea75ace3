/**
 * `lambdaHandler(bot)`: API Gateway (REST, format 1.0; HTTP API, format 2.0) and Lambda Function
 * URL events into the bot's fetch handler, and its Response back into the Lambda result. The body
 * reaches the adapters as the exact bytes the platform sent (base64 decoded when API Gateway
 * encoded it), so signatures are checked on what was signed.
 */
import { HttpError, MemoryQueue, sqsUnwired, type Bot, type HttpRequest, type HttpResponse } from '../src/index.js';
import type { ApiGatewayV1Event, ApiGatewayV2Event, HttpEvent, HttpResult } from './lambda-events.js';
import { SqsQueue } from './sqs-queue.js';
import { unsharedStoreWarning } from './sqs-shared-store.js';

export type LambdaHttpHandler = (event: HttpEvent, context?: unknown) => Promise<HttpResult>;

/** Serve the bot's routes from an API Gateway or Function URL event. */
export function lambdaHandler(bot: Bot): LambdaHttpHandler {
  // Lambda receives the SQS messages for the worker function; this one must never poll.
  if (bot.queue instanceof SqsQueue) bot.queue.drivenByLambda();
  const unshared = bot.queue instanceof SqsQueue ? unsharedStoreWarning(bot.store) : undefined;
  if (unshared) bot.logger.warn(`lambdaHandler: ${unshared}`);
  if (bot.queue instanceof MemoryQueue && bot.config.mode === 'queue') {
    // Lambda freezes the function once it has answered: a job left in this process's memory runs late or never.
    const unwired = sqsUnwired(bot.config, 'in memory');
    bot.logger.warn(
      `lambdaHandler: this bot queues in memory, so its answers would run after the response, when Lambda has frozen the function. ${unwired ?? 'Set SQS_QUEUE_URL (a worker function answers, see sqsWorker) or REDIS_URL, or MODE=direct to answer inside the request (for Slack, use SQS).'}`,
    );
  }
  const hurried = bot.adapters.filter((adapter) => adapter.ackWithinMs !== undefined && !adapter.respondDirect).map((adapter) => adapter.platform);
  if (bot.config.mode === 'direct' && hurried.length > 0) {
    // Off Lambda, direct mode answers such a platform at once and replies after; a frozen function cannot.
    bot.logger.warn(
      { platforms: hurried },
      'lambdaHandler: MODE=direct answers these platforms inside the request here (Lambda freezes the function once it has answered), so an answer slower than the platform waits (Slack: 3 s) makes it send the event again. Set SQS_QUEUE_URL and answer them from a worker function (see sqsWorker).',
    );
  }
  return async (event) => {
    const v2 = isV2(event);
    // A hand-made or test event may lack requestContext: read as far as it goes, never a TypeError.
    const remoteAddress = v2 ? event.requestContext?.http?.sourceIp : event.requestContext?.identity?.sourceIp;
    let request: Request;
    try {
      request = v2 ? requestFromV2(event) : requestFromV1(event);
    } catch (error) {
      // new Request() refuses a header value no HTTP client could have sent, a host that is no URL's,
      // a method fetch forbids (TRACE): the router refuses it as it refuses any request (its error
      // shape, a warn line and the request line, X-Request-Id, counted on a webhook's path).
      const refused = new HttpError(400, 'bad_request', `This request cannot be read: ${whatFailed(error)}.`);
      return fromResponse(await bot.handle(unreadable(event, v2, remoteAddress), refused));
    }
    const response = await bot.fetch(request, { remoteAddress });
    const result = await toResult(response, v2);
    // A message answered in this process (the queue could not take it, Twilio will not redeliver) must be answered before the function freezes.
    await bot.inProcessAnswers();
    return result;
  };
}

function isV2(event: HttpEvent): event is ApiGatewayV2Event {
  return (event as ApiGatewayV2Event).version === '2.0' && typeof (event as ApiGatewayV2Event).rawPath === 'string';
}

function requestFromV1(event: ApiGatewayV1Event): Request {
  // API Gateway fills both forms; a hand-made or test event may fill one, or leave one empty: the single
  // values first, then each name the multi-value form holds replaced by all of its values.
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers.set(name, value);
  // Replaced once per name whatever its case: a header sent as X-Trace and x-trace keeps both values.
  const replaced = new Set<string>();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (!values?.length) continue;
    if (!replaced.has(name.toLowerCase())) headers.delete(name);
    replaced.add(name.toLowerCase());
    for (const value of values) headers.append(name, value);
  }
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) if (value !== undefined) query.set(name, value);
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (!values?.length) continue;
    query.delete(name);
    for (const value of values) query.append(name, value);
  }
  const search = query.size > 0 ? `?${query}` : '';
  return build(event.httpMethod, headers, event.requestContext?.domainName, `${event.path}${search}`, event.body, event.isBase64Encoded);
}

function requestFromV2(event: ApiGatewayV2Event): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers.set(name, value);
  if (event.cookies?.length) headers.set('cookie', event.cookies.join('; '));
  // A named stage (not $default) is part of rawPath; parley's routes are not under it.
  const stage = event.requestContext.stage;
  const path = stage && stage !== '$default' && event.rawPath.startsWith(`/${stage}/`) ? event.rawPath.slice(stage.length + 1) : event.rawPath;
  const search = event.rawQueryString ? `?${event.rawQueryString}` : '';
  return build(event.requestContext.http.method, headers, event.requestContext.domainName, `${path}${search}`, event.body, event.isBase64Encoded);
}

function build(method: string, headers: Headers, domainName: string | undefined, pathAndQuery: string, body: string | null | undefined, base64: boolean | undefined): Request {
  const host = headers.get('host') ?? domainName ?? 'localhost';
  const proto = headers.get('x-forwarded-proto') ?? 'https';
  const bytes = body == null || method === 'GET' || method === 'HEAD' ? undefined : Buffer.from(body, base64 ? 'base64' : 'utf8');
  if (bytes && inflatedByGateway(headers.get('content-encoding'), bytes)) headers.delete('content-encoding');
  return new Request(`${proto}://${host}${pathAndQuery}`, { method, headers, body: bytes });
}

/** The event as far as it can be read, for the router's refusal: no body, only the headers Web Headers accept. */
function unreadable(event: HttpEvent, v2: boolean, remoteAddress: string | undefined): HttpRequest {
  const method = (v2 ? (event as ApiGatewayV2Event).requestContext?.http?.method : (event as ApiGatewayV1Event).httpMethod) || 'GET';
  const path = (v2 ? (event as ApiGatewayV2Event).rawPath : (event as ApiGatewayV1Event).path) || '/';
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    try {
      if (typeof value === 'string') headers.set(name, value);
    } catch {
      // the value (or name) that made the request unreadable: left out
    }
  }
  let url: URL;
  try {
    url = new URL(`https://localhost${path.startsWith('/') ? path : `/${path}`}`);
  } catch {
    url = new URL('https://localhost/');
  }
  return { method, url, headers: Object.fromEntries(headers), body: Buffer.alloc(0), remoteAddress };
}

/** What failed, without the value that failed (a header's may be a credential). */
function whatFailed(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/header/i.test(message)) return 'a header value no HTTP client could send (a line break, or a character past U+00FF)';
  if (/URL/.test(message)) return 'its host or path does not make a URL';
  if (/method/i.test(message)) return 'its method is not one parley can serve';
  return 'it is not a valid HTTP request';
}

/** The router's own answer (a refusal: a small JSON body) as the Lambda result. */
function fromResponse(response: HttpResponse): HttpResult {
  const body = response.body === undefined ? '' : response.body.toString();
  return { statusCode: response.status, headers: response.headers ?? {}, body, isBase64Encoded: false };
}

/** Text goes back as it is; anything else base64-encoded, as API Gateway expects binary. */
async function toResult(response: Response, v2: boolean): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  const streaming = /^text\/event-stream/i.test(response.headers.get('content-type') ?? '');
  const bytes = streaming ? await eventsSoFar(response) : Buffer.from(await response.arrayBuffer());
  const text = isText(response.headers.get('content-type'));
  return {
    statusCode: response.status,
    headers,
    ...(cookies.length > 0 ? (v2 ? { cookies } : { multiValueHeaders: { 'set-cookie': cookies } }) : {}),
    body: bytes.toString(text ? 'utf8' : 'base64'),
    isBase64Encoded: !text,
  };
}

/** How long a server-sent-events answer collects events before it is returned. */
const EVENTS_WINDOW_MS = 1000;

/**
 * A Lambda answer is returned whole, and a server-sent-events stream never ends: what it has sent
 * within EVENTS_WINDOW_MS is the answer, then the stream is cancelled. The browser's EventSource
 * reconnects (after the stream's `retry:`), so live views become polling instead of timing out.
 */
async function eventsSoFar(response: Response): Promise<Buffer> {
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const parts: Uint8Array[] = [];
  let timer: NodeJS.Timeout | undefined;
  const windowEnds = new Promise<'ended'>((resolve) => (timer = setTimeout(() => resolve('ended'), EVENTS_WINDOW_MS)));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), windowEnds]);
      if (next === 'ended' || next.done) break;
      parts.push(next.value);
    }
  } finally {
    clearTimeout(timer);
    // Not waited for: the stream's source may be asleep until its next heartbeat.
    reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(parts);
}

function isText(contentType: string | null): boolean {
  if (!contentType) return true;
  return /^text\/|[/+](json|xml)\b|javascript|x-www-form-urlencoded/i.test(contentType);
}

/**
 * A REST API with compression on inflates a gzip or deflate body before the function sees it, and
 * may leave its Content-Encoding: bytes that are not what the header names were decoded already (the
 * router refuses a body still encoded, 415).
 */
function inflatedByGateway(encoding: string | null, bytes: Buffer): boolean {
  const name = encoding?.trim().toLowerCase();
  if (name === 'gzip' || name === 'x-gzip') return !(bytes[0] === 0x1f && bytes[1] === 0x8b);
  if (name === 'deflate') return bytes.length < 2 || (bytes[0]! & 0x0f) !== 8 || ((bytes[0]! << 8) | bytes[1]!) % 31 !== 0;
  return false;
}
