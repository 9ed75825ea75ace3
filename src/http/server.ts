import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { NodeMiddleware } from './node.js';

/**
 * Start a plain Node HTTP server on the middleware; resolves once it is listening. A request's
 * headers must arrive within `requestTimeoutMs` (REQUEST_TIMEOUT_MS), and the middleware gives its
 * body as long again; the whole request's limit, twice that, is for a body parley does not read
 * (a 404's, a GET's). Past either, Node's 408 goes out through refuseUnparsable. Node's own
 * defaults (60 s for the headers, 300 s for the request, checked every 30 s) let a client sending
 * a byte a second hold a connection for five minutes.
 */
export function listen(middleware: NodeMiddleware, port: number, host: string, logger?: Logger, requestTimeoutMs = 30_000): Promise<Server> {
  const server = createServer(
    {
      // Node's own check answers a bare 400 with no body and logs nothing: parley refuses it itself.
      requireHostHeader: false,
      headersTimeout: requestTimeoutMs,
      requestTimeout: 2 * requestTimeoutMs,
      // How often Node looks for requests past those limits: a 408 at most a second late.
      connectionsCheckingInterval: Math.min(1000, Math.ceil(requestTimeoutMs / 4)),
    },
    (req, res) => (hostMissing(req) ? refuseHostless(req, res, logger) : middleware(req, res)),
  );
  // Platforms keep connections alive; a little longer than common proxies' idle timeouts.
  server.keepAliveTimeout = 65_000;
  if (logger) server.on('clientError', (error, socket) => refuseUnparsable(error, socket as Socket, logger));
  // Node hands CONNECT (a proxy tunnel) to this event and, with no listener, drops the socket unanswered.
  server.on('connect', (req: IncomingMessage, socket: Socket) => refuseConnect(req, socket, logger));
  // Node answers an Expect other than 100-continue itself, with a bare 417 and no log line.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => refuseExpectation(req, res, logger));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** HTTP/1.1 requires a Host header (HTTP/1.0 does not): without one, the URL the platforms signed is unknown. */
function hostMissing(req: IncomingMessage): boolean {
  return req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1;
}

function refuseHostless(req: IncomingMessage, res: ServerResponse, logger: Logger | undefined): void {
  logger?.warn({ status: 400, method: req.method, remoteAddress: req.socket.remoteAddress }, 'refused an HTTP/1.1 request without a Host header');
  const body = JSON.stringify({ error: { code: 'missing_host', message: 'An HTTP/1.1 request must carry a Host header.' } });
  res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

function refuseExpectation(req: IncomingMessage, res: ServerResponse, logger: Logger | undefined): void {
  logger?.warn({ status: 417, method: req.method, remoteAddress: req.socket.remoteAddress }, 'refused a request with an Expect header other than 100-continue');
  const body = JSON.stringify({ error: { code: 'expectation_failed', message: 'Only "Expect: 100-continue" is understood here: send the request without this Expect header.' } });
  res.writeHead(417, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/**
 * A request Node's parser refused before parley saw it (headers too large, an unknown method, a
 * malformed request line): answered with the status Node would give, a JSON error saying why, and
 * a log line (Node's own answer has no body and logs nothing).
 */
function refuseUnparsable(error: Error & { code?: string }, socket: Socket, logger: Logger): void {
  // A connection reset or closed by the client mid-request: nothing to answer. One half-closed
  // mid-body (HPE_INVALID_EOF_STATE, its request incomplete) is the router's: it logged the hang-up.
  // The response under way may be an earlier request's (keep-alive, pipelined): then it is not.
  const underWay = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  const midBody = error.code === 'HPE_INVALID_EOF_STATE' && underWay?.req?.complete === false;
  if (error.code === 'ECONNRESET' || midBody || !socket.writable) {
    if (midBody) logger.debug({ code: error.code, remoteAddress: socket.remoteAddress }, 'a client closed its connection mid-body');
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const [status, reason, code, message] = tooLarge
    ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'The request headers are too large.']
    : timedOut
      ? [408, 'Request Timeout', 'request_timeout', 'The request took too long to arrive.']
      : [400, 'Bad Request', 'bad_request', 'The request could not be parsed as HTTP.'];
  // The parser stays broken: each later chunk on this connection is another error, already answered.
  if (refusing.has(socket)) return;
  refusing.add(socket);
  const line = timedOut ? 'refused a request that did not arrive within REQUEST_TIMEOUT_MS' : 'refused a request Node could not parse';
  logger.warn({ status, code: error.code, remoteAddress: socket.remoteAddress }, line);
  const body = JSON.stringify({ error: { code, message } });
  const refuse = () => socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  // No answer under way, or this request's own not started: the refusal is its answer.
  if (!underWay || (underWay.req?.complete === false && !underWay.headersSent)) return void refuse();
  // An answer started (this request's, or an earlier one's event stream): a status line would land inside it.
  if (underWay.headersSent) return void socket.destroy();
  // An earlier request's answer (pipelined on a keep-alive connection) is still being made: that
  // request was taken, so its answer goes first (destroying the socket lost it), then this refusal.
  underWay.once('close', () => (underWay.writableFinished && socket.writable ? refuse() : socket.destroy()));
}

/** Connections whose unparsable bytes were already refused (or are waiting for an earlier answer to be refused). */
const refusing = new WeakSet<Socket>();

/** CONNECT: parley is no proxy. A 405 with a JSON error and a log line, as for any method a route does not take. */
function refuseConnect(req: IncomingMessage, socket: Socket, logger: Logger | undefined): void {
  // Node took its own error listener off this socket before handing it over: a client resetting
  // it after the answer must not become an uncaught 'error' that ends the process.
  socket.on('error', () => socket.destroy());
  logger?.warn({ status: 405, method: req.method, remoteAddress: socket.remoteAddress }, 'refused a CONNECT request');
  const body = JSON.stringify({ error: { code: 'method_not_allowed', message: 'CONNECT is not served here: this is no proxy.' } });
  socket.end(`HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Stop taking connections; idle keep-alive sockets are closed at once and as each finishes its
 * request (an ack in flight, an event stream ended by the bot's close), and connections that never
 * end by themselves after a short grace period.
 */
export function stopAccepting(server: Server, graceMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    // server.close() closes the connections idle now, not those that become idle afterwards.
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    force.unref();
    idle.unref();
    server.close(() => {
      clearTimeout(force);
      clearInterval(idle);
      resolve();
    });
    server.closeIdleConnections();
  });
}
