/**
 * The Node `(req, res, next)` middleware for Express, Connect, Fastify (via middie) and plain `http`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { HttpError, type HttpRequest, type HttpResponse } from '../adapter.js';
import { BodyTimeoutError, BodyTooLargeError, ClientClosedError, bodyAlreadyRead, readStreamLimited, withinLimit } from './body.js';
import { jsonError } from './responses.js';
import type { Router } from './router.js';
import { startTogether } from './together.js';
import { originForm, requestUrls, routePath, type UrlOptions } from './url.js';
import { orAfter } from '../timeout.js';

export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

export interface NodeOptions extends UrlOptions {
  bodyLimitBytes: number;
  /** How long a body parley reads may take to arrive (REQUEST_TIMEOUT_MS); none when undefined. */
  requestTimeoutMs?: number | undefined;
  logger: Logger;
}

/** `_body` is body-parser's own "I read this stream" flag; `body` alone may be a placeholder `{}`. */
type MaybeParsed = IncomingMessage & { rawBody?: unknown; body?: unknown; _body?: boolean; originalUrl?: string };

/**
 * Serve parley's routes; pass anything else to `next`. With no `next` (parley's own server) the
 * router answers it 404, with its request line and X-Request-Id like any other answer.
 */
export function createNodeMiddleware(router: Router, options: NodeOptions): NodeMiddleware {
  return (req, res, next) => {
    // The path as mounted: Express and Connect take a mount prefix off req.url (and keep originalUrl).
    const path = routePath(originForm(req.url ?? '/').split('?')[0] as string, options);
    if (next && !router.owns(path)) return next();
    const start = () =>
      void serve(router, options, req as MaybeParsed, res, path).catch((error: unknown) => {
        options.logger.error({ err: error, path }, 'unhandled error while answering a request');
        if (!res.headersSent) void writeResponse(res, jsonError(500, 'internal_error', 'Internal error.'));
        else res.destroy();
      });
    // A body already flowing (an app's middleware in front listens to it, or resumed it) is emitted
    // from the next tick: parley listens now, or it would miss its first chunks. Otherwise it is
    // started with the other requests of this loop turn (together.ts).
    if (req.readableFlowing === true) start();
    else startTogether(start);
  };
}

async function serve(router: Router, options: NodeOptions, req: MaybeParsed, res: ServerResponse, path: string): Promise<void> {
  const method = req.method ?? 'GET';
  let headers = req.headers as Record<string, string | undefined>;
  const encrypted = Boolean((req.socket as { encrypted?: boolean }).encrypted);
  // Parsed when first read (Twilio's signature, the console's query): a Slack ack never reads it.
  let urls: { url: URL; received: string } | undefined;
  const urlsOf = () => (urls ??= requestUrls(originForm(req.originalUrl ?? req.url ?? '/'), headers, encrypted, options));
  const signal = closedEarly(res);
  const request = (body: Buffer): HttpRequest => ({
    method,
    get url() {
      return urlsOf().url;
    },
    get receivedUrl() {
      return urlsOf().received;
    },
    path,
    headers,
    body,
    remoteAddress: req.socket.remoteAddress,
    get signal() {
      return signal();
    },
  });
  let body: Buffer = Buffer.alloc(0);
  if (router.wantsBody(method, path)) {
    try {
      body = await rawBody(req, options);
      // A parser in front kept req.rawBody after decoding it (express.json() inflates gzip and leaves
      // the header): those bytes are not encoded, so the router must not refuse them 415 as if they were.
      if (keptByParser(req) && headers['content-encoding'] !== undefined) headers = withoutEncoding(headers);
    } catch (error) {
      if (clientWentAway(error, req)) {
        // Nothing was taken and no one is left to answer: the router's info line and request line, no answer.
        await router.handle(request(Buffer.alloc(0)), new ClientClosedError());
        res.destroy();
        return;
      }
      if (!(error instanceof HttpError)) throw error;
      // The router answers it (413, or 500 body_already_parsed) as a refusal of its route: with its
      // request line and X-Request-Id, counted, with the adapter's headers.
      const refused = () => router.handle(request(Buffer.alloc(0)), error);
      if (error instanceof BodyTooLargeError) return refuseTooLarge(error, res, refused);
      // Its rest never read: the connection goes after the 408 (the next bytes on it would be the body's).
      if (error instanceof BodyTimeoutError) return answerAndClose(res, refused);
      return writeResponse(res, await refused());
    }
  }
  await writeResponse(res, await router.handle(request(body)));
}

/** How long a 413 waits for the rest of the body at most: a client that stalls still gets its answer. */
const DRAIN_WAIT_MS = 5000;

/**
 * Read and discard the rest of the body, then answer 413: closing on a client that is still sending
 * makes it see a reset instead of our answer, and Node closes a `Connection: close` request's socket
 * as soon as its answer is written. A body longer than the drain limit, or not over within
 * DRAIN_WAIT_MS, is answered then and its socket closed after (a reset is acceptable there).
 */
async function refuseTooLarge(error: BodyTooLargeError, res: ServerResponse, answer: () => Promise<HttpResponse>): Promise<void> {
  const drained = await orAfter(error.drain(undefined, false), DRAIN_WAIT_MS, false);
  if (!drained) return answerAndClose(res, answer);
  await writeResponse(res, await answer());
}

/** Answer, then close the connection: the request's body was not all read. */
async function answerAndClose(res: ServerResponse, answer: () => Promise<HttpResponse>): Promise<void> {
  // A socket closed after the answer says so (`Connection: close`): a keep-alive client must not send its next request on it.
  res.shouldKeepAlive = false;
  await writeResponse(res, await answer());
  if (!res.writableFinished) await new Promise((resolve) => res.once('close', resolve).once('finish', resolve));
  res.req.socket.destroy();
}

/**
 * The request's signal, made when first asked for (only direct mode asks: the ack path pays nothing
 * for it): aborts when the connection closes before the answer was all written, a close after it
 * being the normal end.
 */
function closedEarly(res: ServerResponse): () => AbortSignal {
  let signal: AbortSignal | undefined;
  return () => {
    if (signal) return signal;
    const closed = new AbortController();
    const onClose = () => void (res.writableFinished || closed.abort());
    if (res.closed) onClose();
    else res.once('close', onClose);
    return (signal = closed.signal);
  };
}

/** A body read cut off by the client: Node's "aborted" (ECONNRESET), or a close before the end. */
function clientWentAway(error: unknown, req: IncomingMessage): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (req.destroyed && !(error instanceof HttpError));
}

/** Whether a parser in front kept the body's bytes (req.rawBody, or express.raw()'s req.body): rawBody reads them from there. */
function keptByParser(req: MaybeParsed): boolean {
  return Buffer.isBuffer(req.rawBody) || typeof req.rawBody === 'string' || rawParsed(req);
}

/** express.raw() in front (the stream read, req.body a Buffer): those are the bytes sent, inflated as express.json()'s are. */
function rawParsed(req: MaybeParsed): boolean {
  return Buffer.isBuffer(req.body) && (req.readableEnded || req._body === true);
}

function withoutEncoding(headers: Record<string, string | undefined>): Record<string, string | undefined> {
  const { 'content-encoding': _decoded, ...rest } = headers;
  return rest;
}

/** The exact bytes the platform signed — from the stream, or from `req.rawBody` (express.raw()'s `req.body`) if a parser ran first. */
async function rawBody(req: MaybeParsed, options: NodeOptions): Promise<Buffer> {
  if (Buffer.isBuffer(req.rawBody)) return withinLimit(req.rawBody, options.bodyLimitBytes);
  if (typeof req.rawBody === 'string') return withinLimit(Buffer.from(req.rawBody), options.bodyLimitBytes);
  if (rawParsed(req)) return withinLimit(req.body as Buffer, options.bodyLimitBytes);
  if (req.readableEnded || req._body === true) {
    throw bodyAlreadyRead('Mount parley before express.json()/urlencoded() (or keep the raw bytes in req.rawBody, or parse with express.raw()).');
  }
  // A body that came with its headers is whole already (req.complete): no deadline to keep for it.
  return readStreamLimited(req, options.bodyLimitBytes, req.headers['content-length'], req.complete ? undefined : options.requestTimeoutMs);
}

/** Write an HttpResponse, streaming when it carries a stream (stops when the client goes away). */
export async function writeResponse(res: ServerResponse, response: HttpResponse): Promise<void> {
  res.writeHead(response.status, response.headers);
  if (!response.stream) {
    res.end(response.body);
    return;
  }
  const iterator = response.stream[Symbol.asyncIterator]();
  // A HEAD gets the headers alone: a stream run for it would never end the answer (the connection's
  // next request waiting behind it) and hold its slot until the client hung up.
  if (res.req?.method === 'HEAD') return void (await iterator.return?.(), res.end());
  res.flushHeaders();
  res.on('close', () => void iterator.return?.());
  for (let next = await iterator.next(); !next.done && !res.destroyed; next = await iterator.next()) {
    // Backed up: the next chunk waits until the client takes this one (not buffered without end);
    // a client that takes nothing for the response's stallTimeoutMs is gone, and its stream ends.
    if (!res.write(next.value) && !(await drained(res, response.stallTimeoutMs))) {
      res.destroy();
      break;
    }
  }
  // A client gone before the answer began ('close' came before the listener): the stream ends all the same.
  if (res.destroyed && !res.writableFinished) await iterator.return?.();
  res.end();
}

/** True once `res` drains (or closes), false when it has not after `timeoutMs`. */
function drained(res: ServerResponse, timeoutMs: number | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (result: boolean) => {
      clearTimeout(timer);
      res.off('drain', onDrain).off('close', onDrain);
      resolve(result);
    };
    const onDrain = () => settle(true);
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => settle(false), timeoutMs);
    res.on('drain', onDrain).on('close', onDrain);
  });
}

/** The Node middleware, callable as itself or, as before, as `middleware()` returning itself. */
export type BotMiddleware = NodeMiddleware & (() => NodeMiddleware);

export function asBotMiddleware(middleware: NodeMiddleware): BotMiddleware {
  return ((...args: Parameters<NodeMiddleware> | []) => (args.length === 0 ? middleware : middleware(...args))) as BotMiddleware;
}
