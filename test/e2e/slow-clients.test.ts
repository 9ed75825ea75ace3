/**
 * Clients that send their request slowly, or stop half-way with the connection open: answered 408
 * once REQUEST_TIMEOUT_MS has passed (made small here) and the connection closed, on parley's own
 * server and in middleware mode on a server left at Node's defaults (300 s). Before, Node's
 * defaults held such a connection for five minutes. Nothing here measures how fast: each client
 * waits for its answer and the close, with a generous deadline.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { webChat } from '../../adapters/web/index.js';
import { startWebBot, testEnv, type WebBot } from '../helpers/web-bot.js';

type Line = { level: number; msg: string; status?: number; path?: string; code?: string };
const lines: Line[] = [];
let web: WebBot;
let port: number;

beforeAll(async () => {
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  web = await startWebBot({ REQUEST_TIMEOUT_MS: '300' }, { logger });
  port = Number(new URL(web.url).port);
});
afterAll(async () => {
  await web.close();
});

/** Send `start` (and `drip` every 100 ms after it) on a fresh connection; resolves with what came back once the server closed it. */
async function stall(to: number, start: string, drip?: string): Promise<string> {
  const socket: Socket = connect(to, '127.0.0.1');
  await once(socket, 'connect');
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => undefined);
  socket.write(start);
  const dripping = drip === undefined ? undefined : setInterval(() => socket.writable && socket.write(drip), 100);
  // Generous: Node's own limits (300 s) would still be far off.
  const closed = await Promise.race([once(socket, 'close').then(() => true), new Promise((resolve) => setTimeout(resolve, 15_000, false))]);
  clearInterval(dripping);
  socket.destroy();
  expect(closed, 'the server closed the connection').toBe(true);
  return Buffer.concat(received).toString('latin1');
}

const post = (length: string) => `POST /web/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${length}\r\n\r\n`;
/** The JSON error's code (the body may come chunked). */
const errorCode = (answer: string) => /"code":"([a-z_]+)"/.exec(answer)?.[1];

describe("parley's own server", () => {
  it('a body that stops half-way (Content-Length larger than what arrives) is answered 408 and its connection closed; requests beside it are answered', async () => {
    const stalled = stall(port, `${post('Content-Length: 40')}{"text":"hal`);
    // While it hangs, valid traffic is answered.
    expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
    const answer = await stalled;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(errorCode(answer)).toBe('request_timeout');
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', path: '/web/messages', status: 408 }));
  });

  it('a body sent a byte at a time, and a chunked body that never ends: 408, connection closed', async () => {
    for (const [start, drip] of [
      [`${post('Content-Length: 1000')}{`, ' '],
      [`${post('Transfer-Encoding: chunked')}1\r\n{\r\n`, '1\r\n \r\n'],
    ] as const) {
      const answer = await stall(port, start, drip);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(errorCode(answer)).toBe('request_timeout');
    }
  });

  it('headers sent a byte at a time: 408 with a warning, connection closed', async () => {
    const answer = await stall(port, 'POST /web/messages HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'a');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(errorCode(answer)).toBe('request_timeout');
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, status: 408, code: 'ERR_HTTP_REQUEST_TIMEOUT' }));
  });

  it('a body parley does not read (a 404) that never ends still has its connection closed', async () => {
    const answer = await stall(port, 'POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{', ' ');
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
  });
});

describe('middleware mode, on a server left at Node defaults', () => {
  let bot: Bot;
  let server: Server;
  beforeAll(async () => {
    const config = loadConfig({ ...testEnv, REQUEST_TIMEOUT_MS: '300' });
    bot = createBot({ config, adapters: [webChat({ token: config.web.token })] });
    server = createServer(bot.middleware);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await bot.close();
  });

  it('parley reads the body itself within REQUEST_TIMEOUT_MS: 408, connection closed', async () => {
    const answer = await stall((server.address() as AddressInfo).port, `${post('Content-Length: 40')}{"text":"hal`);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(errorCode(answer)).toBe('request_timeout');
  });

  it('the fetch handler: a body stream that stalls is answered 408', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"text":"hal'));
      },
    });
    const request = new Request('http://127.0.0.1/web/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    const response = await bot.fetch(request);
    expect(response.status).toBe(408);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('request_timeout');
  });
});
