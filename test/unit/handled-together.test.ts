/**
 * Requests that arrive together are handled together (src/http/together.ts): the requests Node reads
 * in one poll phase all reach the router before any of them is answered, instead of each being
 * read, handled and answered inside its own socket's read callback (issue 15's ingress figures rest
 * on it: docs/performance.md, the thirty-sixth look).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HttpRequest } from '../../src/adapter.js';
import { createNodeMiddleware } from '../../src/http/node.js';
import type { Router } from '../../src/http/router.js';
import { silentLogger } from './helpers.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** An app's own middleware in front of parley's. */
type Front = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** A server whose router answers at once, noting when each request reached it and when each answer was finished. */
async function recordingServer(front?: Front): Promise<{ port: number; events: string[]; accepted: () => number }> {
  const events: string[] = [];
  const router = {
    owns: () => true,
    wantsBody: () => true,
    handle: async (request: HttpRequest) => {
      events.push(`handled ${request.body.toString()}`);
      return { status: 200, body: 'ok' };
    },
  } as unknown as Router;
  const middleware = createNodeMiddleware(router, { bodyLimitBytes: 1024, logger: silentLogger, trustProxy: false });
  const server = createServer((req, res) => {
    res.on('finish', () => events.push(`answered ${String(req.headers['x-name'])}`));
    if (front) front(req, res, () => middleware(req, res));
    else middleware(req, res);
  });
  let accepted = 0;
  server.on('connection', () => accepted++);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, events, accepted: () => accepted };
}

async function connected(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

const post = (name: string) => `POST /hook HTTP/1.1\r\nHost: x\r\nX-Name: ${name}\r\nContent-Length: ${name.length}\r\n\r\n${name}`;

/** Hold this process's event loop (the server's too) while the bytes already sent arrive, so one poll phase reads them all. */
function holdTheLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else may run
  }
}

async function answers(socket: Socket): Promise<void> {
  let seen = '';
  for await (const chunk of socket) {
    seen += String(chunk);
    // The answer's body, as it is or chunked (no Content-Length: `2\r\nok\r\n0\r\n\r\n`).
    if (/\r\n\r\n(2\r\n)?ok/.test(seen)) return;
  }
}

describe('requests that arrive together', () => {
  it('all reach the router before any of them is answered', async () => {
    const { port, events, accepted } = await recordingServer();
    const sent = await Promise.all(['a', 'b', 'c'].map(async (name) => ({ name, socket: await connected(port) })));
    // Accepted by the server already: a socket accepted in the poll phase that follows would be read only in the next.
    while (accepted() < sent.length) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const { name, socket } of sent) socket.write(post(name));
    holdTheLoop(100);
    await Promise.all(sent.map(({ socket }) => answers(socket)));
    expect(events).toHaveLength(6);
    // Each socket's request read, handled and answered in turn would read handled, answered, handled, …
    expect(events.slice(0, 3).sort()).toEqual(['handled a', 'handled b', 'handled c']);
    expect(events.slice(3).sort()).toEqual(['answered a', 'answered b', 'answered c']);
  });

  it("are not held back by a test's fake timers", async () => {
    const { port, events } = await recordingServer();
    vi.useFakeTimers();
    const socket = await connected(port);
    socket.write(post('d'));
    await answers(socket);
    expect(events).toEqual(['handled d', 'answered d']);
  });
});

describe('a body already flowing when the request reaches parley', () => {
  // An app's middleware in front that listens to the body and passes the request on at once (a
  // byte count, a hash, a log): the stream flows from the next tick, before the check phase.
  const tap: Front = (req, _res, next) => {
    req.on('data', () => undefined);
    next();
  };

  it('is read whole when it came in one packet with its headers', async () => {
    const { port, events } = await recordingServer(tap);
    const socket = await connected(port);
    socket.write(post('whole'));
    await answers(socket);
    expect(events).toEqual(['handled whole', 'answered whole']);
  });

  it('is read from its first byte when the rest comes later', async () => {
    const { port, events } = await recordingServer(tap);
    const socket = await connected(port);
    const request = post('first-then-rest');
    socket.write(request.slice(0, -4));
    // The start of the body was read (and emitted to the tap) before the rest is sent.
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.write(request.slice(-4));
    await answers(socket);
    expect(events).toEqual(['handled first-then-rest', 'answered first-then-rest']);
  });
});
